"""Files and data staging: ``File``, the staging interface and the DataManager."""
