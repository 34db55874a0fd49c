"""parsl.serialize.facade: Parsl's serializer tables, registration, header loading, buffers."""

from __future__ import annotations

import json
import logging
import pickle
import sys
import textwrap

import pytest

import parsl.serialize
from parsl.serialize import facade
from parsl.serialize.base import SerializerBase
from parsl.serialize.errors import DeserializationError, DeserializerPluginError, SerializationError


class JSONSerializer(SerializerBase):
    """A serializer with a visible byte format, to see which table was used."""

    identifier = b"js"

    def serialize(self, data):
        return json.dumps(data).encode()

    def deserialize(self, body):
        return json.loads(body)


class NamedSerializer(SerializerBase):
    """No identifier of its own: gets b"module ClassName"."""

    def serialize(self, data):
        return repr(data).encode()

    def deserialize(self, body):
        return ("named", body.decode())


@pytest.fixture
def restore_tables():
    code, data = facade.methods_for_code.copy(), facade.methods_for_data.copy()
    extra = facade.additional_methods_for_deserialization.copy()
    yield
    for table, saved in (
        (facade.methods_for_code, code),
        (facade.methods_for_data, data),
        (facade.additional_methods_for_deserialization, extra),
    ):
        table.clear()
        table.update(saved)


def test_package_functions_are_the_facades():
    assert parsl.serialize.serialize is facade.serialize
    assert parsl.serialize.deserialize is facade.deserialize
    assert parsl.serialize.pack_apply_message is facade.pack_apply_message
    assert parsl.serialize.unpack_apply_message is facade.unpack_apply_message


def test_tables_start_as_cloudpickle_where_installed_then_pickle():
    import importlib.util

    expected = [b"cp", b"01"] if importlib.util.find_spec("cloudpickle") else [b"01"]
    assert [s.identifier for s in facade._default_chain()] == expected
    assert list(facade.methods_for_data) == expected
    assert list(facade.methods_for_code) == expected


def test_a_cloudpickle_payload_deserializes_where_the_tables_lack_it(restore_tables):
    pytest.importorskip("cloudpickle")
    payload = parsl.serialize.serialize(lambda x: x * 3)
    assert payload.startswith(b"cp\n")
    facade.methods_for_code.clear()
    facade.methods_for_data.clear()
    facade._installed.pop(b"cp")
    try:
        assert parsl.serialize.deserialize(payload)(2) == 6  # a well-known identifier
    finally:
        facade._installed[b"cp"] = facade.additional_methods_for_deserialization[b"cp"]


def test_registering_for_data_changes_what_serialize_uses(restore_tables):
    facade.methods_for_data.clear()
    facade.register_method_for_data(JSONSerializer())
    payload = parsl.serialize.serialize({"a": [1, 2]})
    assert payload == b'js\n{"a": [1, 2]}'
    assert parsl.serialize.deserialize(payload) == {"a": [1, 2]}
    # callables still go through the code table
    assert not parsl.serialize.serialize(len).startswith(b"js\n")


def test_registering_for_code_only_affects_callables(restore_tables):
    facade.methods_for_code.clear()
    facade.register_method_for_code(NamedSerializer())
    assert parsl.serialize.serialize(len) == NamedSerializer.identifier + b"\n<built-in function len>"
    assert parsl.serialize.serialize(5).startswith(tuple(facade.methods_for_data))


def test_registration_is_undone_by_the_fixture():
    assert b"js" not in facade.methods_for_data
    assert parsl.serialize.serialize({"a": 1}) != b'js\n{"a": 1}'


def test_registered_method_goes_last_unless_it_replaces_one(restore_tables):
    facade.register_method_for_data(JSONSerializer())
    assert list(facade.methods_for_data)[-1] == b"js"
    assert parsl.serialize.serialize([1])[:3] != b"js\n"  # an earlier serializer handled it


def test_a_serializer_that_fails_falls_through_to_the_next(restore_tables):
    facade.methods_for_data.clear()
    facade.register_method_for_data(JSONSerializer())
    facade.register_method_for_data(facade._installed[b"01"])
    assert parsl.serialize.serialize({1, 2}).startswith(b"01\n")  # json cannot do sets


def test_all_serializers_failing_is_a_serialization_error_with_the_cause(restore_tables):
    facade.methods_for_data.clear()
    facade.register_method_for_data(JSONSerializer())
    with pytest.raises(SerializationError, match="set") as info:
        parsl.serialize.serialize({1, 2})
    assert isinstance(info.value.__cause__, TypeError)


def test_empty_table_says_how_to_fix(restore_tables):
    facade.methods_for_data.clear()
    with pytest.raises(SerializationError, match="register_method_for"):
        parsl.serialize.serialize(1)


def test_bad_identifier_is_refused_at_registration():
    class Bad(JSONSerializer):
        identifier = b"a\nb"

    with pytest.raises(ValueError, match="newline"):
        facade.register_method_for_data(Bad())


def test_default_identifier_names_module_and_class():
    assert NamedSerializer.identifier == f"{__name__} NamedSerializer".encode()
    assert NamedSerializer().identifier == NamedSerializer.identifier


def test_deserialize_imports_the_serializer_a_header_names(tmp_path, monkeypatch, restore_tables):
    (tmp_path / "facade_test_plugin_mod.py").write_text(
        textwrap.dedent("""
        from parsl.serialize.base import SerializerBase

        class Reverse(SerializerBase):
            def serialize(self, data):
                return data[::-1]

            def deserialize(self, body):
                return body[::-1]
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "facade_test_plugin_mod", raising=False)
    header = b"facade_test_plugin_mod Reverse"
    assert header not in facade.additional_methods_for_deserialization
    assert parsl.serialize.deserialize(header + b"\ncba") == b"abc"
    loaded = facade.additional_methods_for_deserialization[header]
    assert type(loaded).__name__ == "Reverse"
    # loading it for deserialization does not make serialize use it
    assert header not in facade.methods_for_data and header not in facade.methods_for_code


@pytest.mark.parametrize(
    "header", [b"zz", b"no_such_module_xyz Cls", b"json NoSuchClass", b"json JSONDecoder"]
)
def test_unloadable_header_is_a_deserializer_plugin_error(header):
    with pytest.raises(DeserializerPluginError) as info:
        parsl.serialize.deserialize(header + b"\nbody")
    assert info.value.header == header
    assert info.value.__cause__ is not None
    assert header not in facade.additional_methods_for_deserialization


def test_payload_without_header_line_is_a_deserialization_error():
    with pytest.raises(DeserializationError, match="no identifier line"):
        parsl.serialize.deserialize(b"01")


def test_parsl_payloads_from_upstream_identifiers_deserialize():
    dill = pytest.importorskip("dill")
    assert parsl.serialize.deserialize(b"01\n" + pickle.dumps({"x": 1})) == {"x": 1}
    assert parsl.serialize.deserialize(b"02\n" + dill.dumps([1, 2])) == [1, 2]
    square = parsl.serialize.deserialize(b"C2\n" + dill.dumps(lambda x: x * x))
    assert square(7) == 49


def test_pack_buffers_byte_format_and_roundtrip():
    packed = facade.pack_buffers([b"abc", b"", b"d\ne"])
    assert packed == b"3\nabc0\n3\nd\ne"
    assert facade.unpack_buffers(packed) == [b"abc", b"", b"d\ne"]
    assert facade.unpack_buffers(b"") == []


@pytest.mark.parametrize("bad", [b"x\nabc", b"10\nabc", b"3abc"])
def test_malformed_packed_buffer_is_a_deserialization_error(bad):
    with pytest.raises(DeserializationError, match="malformed packed buffer"):
        facade.unpack_buffers(bad)


def _add(a, b, *, c=0):
    return a + b + c


def test_pack_apply_message_is_three_serialized_buffers():
    packed = parsl.serialize.pack_apply_message(_add, (1, 2), {"c": 3})
    parts = facade.unpack_buffers(packed)
    assert len(parts) == 3
    assert [parsl.serialize.deserialize(p) for p in parts[1:]] == [(1, 2), {"c": 3}]
    func, args, kwargs = parsl.serialize.unpack_apply_message(packed)
    assert func(*args, **kwargs) == 6
    assert facade.unpack_and_deserialize(packed)[1:] == [(1, 2), {"c": 3}]


def test_unpack_and_deserialize_wants_three_buffers():
    packed = facade.pack_buffers([parsl.serialize.serialize(1)])
    with pytest.raises(DeserializationError, match="expected 3"):
        facade.unpack_and_deserialize(packed)


def test_res_spec_message_carries_a_fourth_buffer():
    packed = parsl.serialize.pack_res_spec_apply_message(_add, [1], {}, {"cores": 2})
    assert parsl.serialize.unpack_res_spec_apply_message(packed)[1:] == [[1], {}, {"cores": 2}]


def test_payload_over_threshold_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="parsl.serialize.facade"):
        parsl.serialize.serialize(b"x" * 100, buffer_threshold=10)
        parsl.serialize.serialize(b"x", buffer_threshold=1000)
    assert [r.getMessage() for r in caplog.records] == [
        "Serialized object exceeds buffer threshold of 10 bytes, this could cause overflows"
    ]


def test_dill_callable_serializer_caches():
    pytest.importorskip("dill")
    from parsl.serialize.concretes import DillCallableSerializer

    s = DillCallableSerializer()
    s.serialize.cache_clear()
    s.serialize(_add)
    s.serialize(_add)
    assert s.serialize.cache_info().hits == 1
    assert s.deserialize(s.serialize(_add))(1, 1) == 2
