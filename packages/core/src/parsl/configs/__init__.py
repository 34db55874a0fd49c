"""Ready-made configurations (``parsl.configs.local_threads``, ``parsl.configs.htex_local``, ...)."""
