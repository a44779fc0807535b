"""The docs state facts the code owns: every output column, every parameter's default, range,
unit and source (tables generated from the models' declarations, checked to be current)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from conftest import make_config

from segmark.models import docs, registry
from segmark.models.interface import Model, Outcome, Parameter
from segmark.pipeline.calibration.engine import check_base, with_settings
from segmark.pipeline.calibration.spec import check
from segmark.pipeline.store import schemas
from segmark.pipeline.sweep import plan
from segmark.pipeline.validate import installed_model

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"


@pytest.mark.parametrize("table", ["plan", "summary", "series", "places"])
def test_output_doc_lists_every_column(table: str) -> None:
    text = (DOCS / "OUTPUT.md").read_text()
    missing = [
        f.name for f in getattr(schemas(registry.get("nk")), table) if f"`{f.name}`" not in text
    ]
    assert not missing


@pytest.mark.parametrize("name", sorted(p.name for p in DOCS.glob("*.md")))
def test_generated_tables_are_current(name: str) -> None:
    """`python -m segmark.models.docs docs/*.md` leaves the committed docs as they are."""
    text = (DOCS / name).read_text()
    assert docs.render(text) == text, f"run: python -m segmark.models.docs docs/{name}"


def test_the_model_doc_carries_the_parameter_table() -> None:
    text = (DOCS / "MODEL.md").read_text()
    assert "<!-- segmark:parameters nk -->" in text
    assert "| `policy.permit_strictness` | - | 0.7 | [0, 1] |" in text


def test_readme_shows_the_two_commands_and_the_schema_doc() -> None:
    text = README.read_text()
    assert "make run" in text and "make test" in text and "docs/OUTPUT.md" in text
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


@pytest.mark.parametrize("name", registry.names())
def test_every_declaration_says_what_it_is(name: str) -> None:
    model = registry.get(name)
    assert model.doc
    for item in (*model.parameters, *model.outcomes, *model.series):
        assert item.doc, item.name


def test_numbered_parameters_share_one_row_only_when_alike() -> None:
    alike = [
        Parameter(f"release_{i:02d}", "policy", 0.0, f"released in year {i}", low=0.0, high=0.1)
        for i in range(12)
    ]
    odd = Parameter("release_12", "policy", 0.0, "released in year 12", low=0.0, high=0.2)
    model = Model("numbered", "1", (*alike, odd), (Outcome("x", "x"),), simulate=lambda p, s: {})
    rows = docs.parameters(model).splitlines()[2:]
    assert rows == [
        "| `policy.release_00` ... `policy.release_11` (12) | - | 0 | [0, 0.1] "
        "| released in year 0 ... 11 | assumption |",
        "| `policy.release_12` | - | 0 | [0, 0.2] | released in year 12 | assumption |",
    ]
    assert docs.columns(model).splitlines()[2] == (
        "| `policy_release_00` ... `policy_release_11` (12) | double |"
    )


@pytest.mark.parametrize("name", ["ANALYSIS.md", "MODELS.md"])
def test_the_imports_the_docs_show_exist(name: str) -> None:
    text = (DOCS / name).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    imports = [line for b in blocks for line in b.splitlines() if line.startswith("from segmark")]
    assert imports
    for line in imports:
        exec(line, {})  # our own docs' import lines


def test_the_analysis_functions_the_readme_names_import_from_the_package() -> None:
    """README: "The same from Python: `segmark.pipeline.analysis` (`load`, ...)": each name it
    lists is importable from the package itself (issue 27: it exported nothing)."""
    import segmark.pipeline.analysis as analysis

    text = " ".join(README.read_text().split())
    listed = re.search(r"`segmark\.pipeline\.analysis` \(([^)]*)\)", text)[1]
    names = re.findall(r"`(\w+)`", listed)
    assert len(names) >= 7
    for name in names:
        assert callable(getattr(analysis, name)), name
    assert set(names) <= set(analysis.__all__)


def _layout() -> dict[str, str]:
    """README's layout block: each top-level folder and the text that describes it."""
    block = re.search(r"## Layout\n\n```\n(.*?)```", README.read_text(), re.S)[1]
    entries: dict[str, str] = {}
    folder = ""
    for line in block.splitlines():
        if line and not line.startswith(" "):
            folder = line.split()[0]
            line = line[len(folder) :]
        entries[folder] = entries.get(folder, "") + " " + line
    return entries


def test_readme_layout_matches_the_tree() -> None:
    """Every folder and module README's layout names exists, and every module of the
    package's folders is named there."""
    layout = _layout()
    for folder, text in layout.items():
        assert (ROOT / folder).is_dir(), folder
        named = set(re.findall(r"[\w/]+\.(?:py|md|yaml|sh)\b|\b\w+/(?=\s|$|\))", text))
        for name in named:
            hits = list((ROOT / folder).rglob(Path(name).name.rstrip("/")))
            assert hits, f"README layout names {folder}{name}, which is not in the tree"
    for folder in ("kernels/", "models/", "pipeline/"):
        text = layout[folder]
        for path in (ROOT / folder).rglob("*.py"):
            if path.name != "__init__.py" and "conf" not in path.parts:
                assert path.name in text, f"README layout leaves out {path.relative_to(ROOT)}"


def readme_commands(program: str) -> list[list[str]]:
    """The arguments of every ``.venv/bin/<program>`` line in README's bash blocks."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)
    lines = [shlex.split(line, comments=True) for line in "\n".join(blocks).splitlines()]
    return [words[1:] for words in lines if words and words[0] == f".venv/bin/{program}"]


@pytest.mark.parametrize("args", readme_commands("segmark"), ids=" ".join)
def test_the_readmes_sweep_commands_are_valid_configs(args: list[str]) -> None:
    """Each `segmark` line of README composes, validates and expands (no run): a README
    example that a change of config broke fails here, not in a user's shell."""
    overrides = args[2:] if args[:1] == ["--cfg"] else args  # --cfg job prints the config
    cfg = make_config(*overrides)
    design, runs = plan(cfg, installed_model(cfg.model_name))
    assert len(runs) >= 1 and len(design.points) >= 1


@pytest.mark.parametrize("args", readme_commands("segmark-calibrate"), ids=" ".join)
def test_the_readmes_calibration_commands_are_valid(args: list[str]) -> None:
    cfg = make_config(*args, config_name="calibrate")
    model = installed_model(cfg.model_name)
    checked = check(cfg.calibration, model, cfg.sweep.root_seed)
    check_base(with_settings(cfg, checked.targets), model, checked.priors)


def test_the_readme_shows_commands_of_every_program() -> None:
    assert len(readme_commands("segmark")) >= 15 and readme_commands("segmark-calibrate")
