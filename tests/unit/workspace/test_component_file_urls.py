"""A component's ``code:`` and its inputs' default paths read the ``file:`` forms as a job's do
(``runner.file_urls``, ``tests/unit/jobs/test_code_file_urls.py``), whether the component is registered
(``runner component create`` / ``ml_client.components.create_or_update``) or built in Python and called in a
``@pipeline``: ``file:///x``, ``file://localhost/x`` and ``file:/x`` are this machine's ``/x``
(percent-decoded), ``file:<relative>`` is that path from the YAML's folder, and ``file://<another host>/x``
is one clear error at its line, never the relative folder ``<host>/x``. Every folder lives in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.components import CommandComponent
from runner.dsl import pipeline
from runner.errors import SpecError
from runner.pipelines.graph import build_graph
from runner.spec.component import component_from_data, load_component_spec
from runner.workspace.components import ComponentStore
from runner.workspace.db import Workspace


@pytest.fixture
def store(tmp_path: Path) -> ComponentStore:
    return ComponentStore(Workspace(tmp_path / "ws"))


def _component(folder: Path, *, code: str | None = None, default: str | None = None) -> Path:
    """A component YAML in ``folder``: ``code:`` on line 4, input ``d``'s ``default:`` on line 7."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "comp.yml"
    path.write_text("name: reader\n"
                    "command: python main.py ${{inputs.d}}\n"
                    "environment: {image: runner/busybox:latest}\n"
                    + (f"code: \"{code}\"\n" if code is not None else "code: .\n")
                    + "inputs:\n"
                    "  d:\n"
                    + (f"    default: \"{default}\"\n" if default is not None else "    optional: true\n")
                    + "    type: uri_folder\n")
    return path


def _source(folder: Path, name: str = "src") -> Path:
    src = folder / name
    src.mkdir(parents=True)
    (src / "main.py").write_text("print('hi')\n")
    return src


def _snapshot(store: ComponentStore, path: Path) -> Path:
    record = store.create(load_component_spec(path))
    return Path(record.spec["code"])


@pytest.mark.parametrize("form", ["file://localhost{src}", "file:{src}", "file://{src}", "FILE://LOCALHOST{src}"])
def test_a_file_url_on_this_machine_is_the_registered_code(store: ComponentStore, tmp_path: Path,
                                                          form: str) -> None:
    src = _source(tmp_path / "elsewhere")
    snapshot = _snapshot(store, _component(tmp_path / "spec", code=form.format(src=src)))
    assert (snapshot / "main.py").read_text() == "print('hi')\n"


def test_a_percent_encoded_code_url_registers_the_decoded_folder(store: ComponentStore,
                                                                 tmp_path: Path) -> None:
    src = _source(tmp_path, "my code é")
    assert (_snapshot(store, _component(tmp_path / "spec", code=src.as_uri())) / "main.py").is_file()


def test_azure_mls_file_prefix_before_a_relative_code_folder(store: ComponentStore, tmp_path: Path) -> None:
    _source(tmp_path / "spec")
    assert (_snapshot(store, _component(tmp_path / "spec", code="file:src")) / "main.py").is_file()


@pytest.mark.parametrize("code", ["file://fileserver/share/src", "file://me@fileserver:22/src"])
def test_registered_code_naming_another_host_is_one_located_error(store: ComponentStore, tmp_path: Path,
                                                                  code: str) -> None:
    _source(tmp_path / "spec" / "fileserver" / "share")  # the relative reading would find this: never read
    _source(tmp_path / "spec" / "me@fileserver:22")
    path = _component(tmp_path / "spec", code=code)
    with pytest.raises(SpecError) as refused:
        store.create(load_component_spec(path))
    err = refused.value
    assert err.field == "code" and err.where is not None and err.where.file == path and err.where.line == 4
    assert "names the host 'fileserver" in err.message and "does not exist" not in err.message
    assert err.hint and "file:///" in err.hint
    assert store.list() == []


@pytest.mark.parametrize("form", ["file://localhost{data}", "file:{data}", "{uri}"])
def test_a_default_paths_file_url_on_this_machine_is_registered_as_its_path(
        store: ComponentStore, tmp_path: Path, form: str) -> None:
    data = tmp_path / "data é 1"
    data.mkdir()
    path = _component(tmp_path / "spec", default=form.format(data=data, uri=data.as_uri()))
    (tmp_path / "spec" / "main.py").write_text("")
    record = store.create(load_component_spec(path))
    assert record.to_dict()["inputs"]["d"] == {"type": "uri_folder", "default": str(data)}


def test_a_default_path_naming_another_host_is_one_located_error(store: ComponentStore,
                                                                 tmp_path: Path) -> None:
    (tmp_path / "spec" / "fileserver" / "d").mkdir(parents=True)  # the relative reading: never taken
    path = _component(tmp_path / "spec", default="file://fileserver/d")
    with pytest.raises(SpecError) as refused:
        store.create(load_component_spec(path))
    err = refused.value
    assert err.field == "inputs.d.default" and err.where is not None and err.where.line == 7
    assert "names the host 'fileserver'" in err.message and err.hint and "file:///" in err.hint
    assert store.list() == []


def _built(base: Path, code: str) -> CommandComponent:
    """A component built in Python (no YAML), its relative paths from ``base``."""
    return CommandComponent(component_from_data({"name": "built", "command": "python main.py",
                                                 "code": code, "environment": {"image": "busybox:latest"}},
                                                base_dir=base))


@pytest.mark.parametrize("form", ["file://localhost{src}", "file:{src}", "{uri}", "file:my src é"])
def test_a_python_built_components_code_url_is_the_steps_folder(tmp_path: Path, form: str) -> None:
    src = _source(tmp_path / "base", "my src é")
    component = _built(tmp_path / "base", form.format(src=src, uri=src.as_uri()))
    assert isinstance(component.reference, dict) and component.reference["code"] == str(src)

    @pipeline
    def one():  # type: ignore[no-untyped-def]
        component()

    graph = build_graph(one().pipeline_spec(), Workspace(tmp_path / "ws"), pipeline_name="p")
    assert graph.steps["built"].spec.code == str(src)


def test_a_python_built_components_code_on_another_host_is_one_error(tmp_path: Path) -> None:
    _source(tmp_path / "base" / "fileserver")  # the relative reading would find this: never read
    component = _built(tmp_path / "base", "file://fileserver/src")

    @pipeline
    def one():  # type: ignore[no-untyped-def]
        component()

    with pytest.raises(SpecError) as refused:
        build_graph(one().pipeline_spec(), Workspace(tmp_path / "ws"), pipeline_name="p")
    err = refused.value
    assert "code" in (err.field or "") and "names the host 'fileserver'" in err.message
    assert "does not exist" not in err.message and err.hint and "file:///" in err.hint


def test_registering_a_python_built_components_code_on_another_host_is_one_error(
        store: ComponentStore, tmp_path: Path) -> None:
    _source(tmp_path / "base" / "fileserver")
    with pytest.raises(SpecError) as refused:
        store.create(_built(tmp_path / "base", "file://fileserver/src").spec)
    assert refused.value.field == "code" and "names the host 'fileserver'" in refused.value.message
    assert store.list() == []
