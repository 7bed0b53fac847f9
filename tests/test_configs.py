"""Typed configurations (run, evaluate, classify): a bad key or value in any section is one
line naming the file, the key and what is allowed, before any work; the defaults, the
reference and the resolved run configuration come from the same models and round-trip."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from serendip.classify.config import ClassifyConfig
from serendip.classify.config import config_reference as classify_reference
from serendip.classify.config import load_config as load_classify
from serendip.cli import app
from serendip.errors import ConfigError
from serendip.evaluate.config import EvaluateFile
from serendip.evaluate.config import config_reference as evaluate_reference
from serendip.evaluate.config import load_config as load_evaluate
from serendip.pipeline.config import (
    DEFAULT_CONFIG,
    RunConfig,
    check_data_size,
    config_reference,
    dump_config,
    load_config,
)

#: (TOML text, words the one-line error must hold) for every section of the run config
RUN_BAD = [
    ("[input]\nn_source = 3000\n", ["input.n_source", "did you mean 'n_sources'"]),
    ('[input]\nn_sources = "many"\n', ["wrong type for input.n_sources", "integer"]),
    ("[input]\nn_sources = 10\n", ["input.n_sources = 10", ">= 50"]),
    ("[input]\nknown_fraction = 1.5\n", ["input.known_fraction", "within [0, 1]"]),
    ("[input]\nsimulate = false\n", ["input.paths", "nothing to run on"]),
    ("[input]\nband_ev = [7000.0, 500.0]\n", ["input.band_ev", "low < high"]),
    ("[input]\nscan_fraction = 0.5\n", ["input.scan_fraction", "input.real_sky = true"]),
    ("[input]\nreal_sky = true\nscan_fraction = 2.0\n", ["input.scan_fraction", "1"]),
    ('[features]\ncase = "2D-PCAA"\n', ["features.case", "did you mean '2D-PCA'", "events"]),
    ("[features]\nn_components = 5\n", ["features.n_components", "PCA cases", "2D-PCA"]),
    ("[features]\nn_components = -1\n", ["features.n_components = -1", ">= 0"]),
    ('[features]\nmaps = "minmax"\n', ["features.maps", "deviance, reference"]),
    ('[features]\nmaps = "reference"\n', ["features.maps", "E-t map and cube cases"]),
    ('[embed]\nmethod = "tsnee"\n', ["embed.method", "did you mean 'tsne'", "umap"]),
    ('[embed]\ninit = "pcaa"\n', ["embed.init", "did you mean 'pca'", "spectral, random"]),
    ("[embed]\nperplexity = 1e9\n", ["embed.perplexity", "(n_files - 1) / 3"]),
    ("[embed]\nperplexity = 0.0\n", ["embed.perplexity = 0.0", "> 0"]),
    ("[embed]\nperplexity = nan\n", ["embed.perplexity", "out of range"]),
    ('[embed]\nlearning_rate = "fast"\n', ["embed.learning_rate", "'auto'"]),
    ('[embed]\nmethod = "umap"\nperplexity = 50.0\n', ["embed.perplexity", "method = 'tsne'"]),
    ("[embed]\nmin_dist = 2.0\n", ["embed.min_dist = 2.0", "within [0, 1]"]),
    ('[cluster]\nmethod = "kmeans"\n', ["cluster.method", "dbscan, hdbscan"]),
    ("[cluster]\neps = -1.0\n", ["cluster.eps = -1.0", "> 0"]),
    ("[cluster]\nmin_samples = 2.5\n", ["wrong type for cluster.min_samples"]),
    ("[cluster]\nmin_cluster_size = 50\n", ["cluster.min_cluster_size", "'hdbscan'"]),
    (
        '[candidates]\nanomaly = "iforrest"\n',
        ["candidates.anomaly", "'iforrest'", "iforest, ocsvm"],
    ),
    ('[candidates]\nanomaly = "mcif"\n', ["candidates.anomaly", "needs known-class labels"]),
    ('[candidates]\nanomaly = "knn"\nn_estimators = 50\n', ["candidates.n_estimators", "iforest"]),
    ("[candidates]\nk_neighbours = 0\n", ["candidates.k_neighbours = 0", ">= 1"]),
    ("[sources]\nmatch_sigma = 0.0\n", ["sources.match_sigma = 0.0", "> 0"]),
    ("[completeness]\ntop_fraction = 1.5\n", ["completeness.top_fraction = 1.5", "within (0, 1)"]),
    ("[sources]\nonline = \"yes\"\n", ["wrong type for sources.online"]),
    ("[input]\nfield_observations = -2\n", ["input.field_observations = -2", ">= 0"]),
    ("[candidates]\nnn_spam = 0.1\n", ["candidates.nn_spam", "did you mean 'nn_span'"]),
    ("[significance]\nn_scrambles = -1\n", ["significance.n_scrambles = -1", "within [0, 1000]"]),
    ("[significance]\nfap_threshold = 1.0\n", ["significance.fap_threshold = 1.0", "within (0, 1)"]),
    ("[report]\nn_top = 0\n", ["report.n_top = 0", ">= 1"]),
    ("[report]\nntop = 5\n", ["report.ntop", "did you mean 'n_top'"]),
    ("[reprot]\nn_top = 5\n", ["unknown section [reprot]", "did you mean 'report'"]),
    ('embed = "tsne"\n', ["embed must be a table"]),
]

CLASSIFY_BAD = [
    ('[model]\nkind = "shipped"\n', ["needs an [input] section"]),
    ('[input]\npath = "t.csv"\ntap = {top = 3}\n', ["either input.path or [input.tap]"]),
    ("[input]\ntap = {tp = 3}\n", ["input.tap.tp", "did you mean 'top'"]),
    ("[input]\ntap = {timeout_s = -1.0}\n", ["input.tap.timeout_s", "> 0"]),
    ('[input]\npath = "nowhere.csv"\n', ["input.path: no such file 'nowhere.csv'"]),
    ('[input]\npath = "t.csv"\n[model]\nkind = "bost"\n', ["model.kind", "did you mean 'boost'"]),
    (
        '[input]\npath = "t.csv"\n[model]\nname = "csc_xray_groupd"\n',
        ["model.name", "csc_xray_grouped"],
    ),
    ('[input]\npath = "t.csv"\n[model]\nn_components = 500\n', ["model.n_components", "1-200"]),
    ('[input]\npath = "t.csv"\n[model]\nn_components = "bik"\n', ["model.n_components", "'bic'"]),
    ('[input]\npath = "t.csv"\n[labels]\nradius_arcsec = 0.0\n', ["labels.radius_arcsec", "> 0"]),
    ('[input]\npath = "t.csv"\n[labels]\nlevel = "coarse"\n', ["labels.level", "fine, muwclass"]),
    (
        '[input]\npath = "t.csv"\n[counterparts]\npath = "t.csv"\n',
        ["[counterparts] adds features", 'model.kind = "boost"'],
    ),
    (
        '[input]\npath = "t.csv"\n[model]\nkind = "boost"\n[counterparts]\npath = "t.csv"\nname = "9x"\n',
        ["counterparts.name", "pattern"],
    ),
    (
        '[input]\npath = "t.csv"\n[model]\nkind = "boost"\n[counterparts]\npath = "no.csv"\n',
        ["counterparts.path: no such file 'no.csv'"],
    ),
    ('[input]\npath = "t.csv"\n[output]\nformats = ["xls"]\n', ["output.formats[0]", "parquet"]),
    ('[input]\npath = "t.csv"\n[output]\nplots = "yes"\n', ["wrong type for output.plots"]),
    ('[input]\npath = "t.csv"\n[outptu]\nplots = true\n', ["[outptu]", "did you mean 'output'"]),
]

_EVAL_OK = '[data]\ntable = "t.csv"\nlabel = "b"\n[detectors.x]\nkind = "iforest"\n'
EVALUATE_BAD = [
    ('[detectors.x]\nkind = "iforest"\n', ["data is required"]),
    ('[data]\ntable = "t.csv"\n[detectors.x]\nkind = "iforest"\n', ["data.label is required"]),
    ('[data]\ntable = "no.csv"\nlabel = "b"\n[detectors.x]\nkind = "iforest"\n', ["data.table"]),
    ('[data]\ntable = "t.csv"\nlabel = "b"\nlog = ["a"]\n' + _EVAL_OK[35:], ["data.log", "log10"]),
    (_EVAL_OK + "[protocol]\ntest_size = 1.5\n", ["protocol.test_size = 1.5", "(0, 1)"]),
    (_EVAL_OK + '[protocol]\nscale = "minmax"\n', ["protocol.scale", "standard, robust, none"]),
    (_EVAL_OK + "[protocol]\nbudgets = [0.0]\n", ["protocol.budgets", "(0, 1]"]),
    (_EVAL_OK + "[protocol]\nseed = [1]\n", ["protocol.seed", "did you mean 'seeds'"]),
    (_EVAL_OK + "[protocol]\nartefact_class = 3\n", ["protocol.artefact_class"]),
    (_EVAL_OK + '[hierarchy]\na = "b"\n', ["wrong type for hierarchy.a", "list of strings"]),
    (_EVAL_OK.replace('"iforest"', '"IForrest"'), ["detectors.x.kind", "did you mean 'iforest'"]),
    (_EVAL_OK.replace('"iforest"', '"MultiClassDeepSVD"'), ["did you mean 'MultiClassDeepSVDD'"]),
    (_EVAL_OK.replace("kind =", "knd ="), ["detectors.x.knd", "did you mean 'kind'"]),
    ('[data]\ntable = "t.csv"\nlabel = "b"\n[detectors]\n', ["detectors", "at least 1"]),
]


def _fails(loader, tmp_path, text, words):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        loader(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg, msg
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.parametrize(("text", "words"), RUN_BAD)
def test_run_config_bad_key_or_value(tmp_path, text, words):
    _fails(load_config, tmp_path, text, words)


@pytest.mark.parametrize(("text", "words"), CLASSIFY_BAD)
def test_classify_config_bad_key_or_value(tmp_path, text, words):
    _fails(load_classify, tmp_path, text, words)


@pytest.mark.parametrize(("text", "words"), EVALUATE_BAD)
def test_evaluate_config_bad_key_or_value(tmp_path, text, words):
    _fails(load_evaluate, tmp_path, text, words)


def test_every_run_section_has_a_bad_case():
    sections = {t.split("]")[0].strip("[") for t, _ in RUN_BAD if t.startswith("[")}
    assert set(DEFAULT_CONFIG) <= sections
    assert {"input", "model", "labels", "output"} <= {
        w.split(".")[0].strip("[]") for _, ws in CLASSIFY_BAD for w in ws if "." in w
    } | {"input"}


def test_defaults_come_from_the_models():
    assert DEFAULT_CONFIG == RunConfig().model_dump()
    assert load_config() == DEFAULT_CONFIG
    # "auto": the feature case's validated detector rule (issue 16); "iforest" for "events"
    assert DEFAULT_CONFIG["candidates"]["anomaly"] == "auto"
    assert DEFAULT_CONFIG["features"]["maps"] == "deviance"
    DEFAULT_CONFIG["report"]["n_top"] = 99  # a copy each time: callers cannot change it
    assert load_config()["report"]["n_top"] == 24
    DEFAULT_CONFIG["report"]["n_top"] = 24


def test_resolved_run_config_round_trips(tmp_path):
    over = {
        "input": {"n_sources": 300, "seed": 4, "band_ev": [300, 8000]},
        "features": {"case": "2D-PCA", "n_components": 7},
        "embed": {"perplexity": 20, "learning_rate": 200, "init": "random"},
        "cluster": {"method": "hdbscan", "min_cluster_size": 10},
        "candidates": {"anomaly": "knn"},
    }
    for cfg in (load_config(), load_config(overrides=over)):
        dump_config(cfg, tmp_path / "config.toml")
        again = load_config(tmp_path / "config.toml")
        assert again == cfg
        assert type(again["embed"]["perplexity"]) is float  # ints given for numbers
    assert load_config(overrides=over)["input"]["band_ev"] == [300.0, 8000.0]


def test_values_the_libraries_would_clip_are_refused_at_the_stage():
    cfg = load_config(overrides={"input": {"n_sources": 5000}})
    check_data_size(cfg, 5000)
    with pytest.raises(
        ConfigError, match=r"embed.perplexity = 30.0 .* 61 files.* <= \(n_files - 1\) / 3 = 20"
    ):
        check_data_size(cfg, 61, "run/config.toml")
    pca = load_config(
        overrides={"features": {"case": "2D-PCA", "n_components": 80}, "embed": {"perplexity": 5.0}}
    )
    with pytest.raises(ConfigError, match="features.n_components = 80 .* 60 files"):
        check_data_size(pca, 60)
    umap = load_config(overrides={"embed": {"method": "umap"}, "cluster": {"method": "hdbscan"}})
    with pytest.raises(ConfigError, match="embed.n_neighbors = 15 .* 10 files"):
        check_data_size(umap, 10)


def test_numpy_scalars_count_as_python_values():
    np = pytest.importorskip("numpy")
    cfg = load_config(overrides={"input": {"n_sources": np.int64(400), "seed": np.int32(2)}})
    assert cfg["input"]["n_sources"] == 400 and type(cfg["input"]["n_sources"]) is int


def test_references_name_every_key():
    for model, text in (
        (RunConfig, config_reference()),
        (ClassifyConfig, classify_reference()),
        (EvaluateFile, evaluate_reference()),
    ):
        for section, field in model.model_fields.items():
            assert f"## [{section}" in text, section
            sub = field.annotation
            for key in getattr(sub, "model_fields", {}):
                assert f"| `{key}` |" in text, (section, key)
    assert "## [input.tap]" in classify_reference() and "| `schema` |" in classify_reference()
    assert "## [detectors.<name>]" in evaluate_reference()
    run = config_reference()
    assert "| `perplexity` | a number | `30` | > 0 |" in run
    assert "`iforest`, `ocsvm`" in run and "`mcif`" not in run  # unsupervised only


def test_cli_run_typo_fails_before_any_work(tmp_path):
    cfg = tmp_path / "t.toml"
    cfg.write_text('[input]\nn_sources = 3000\n[candidates]\nanomaly = "iforrest"\n')
    out = tmp_path / "x"
    res = CliRunner().invoke(app, ["run", str(cfg), "--out", str(out)])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    assert (
        "candidates.anomaly" in lines[0] and "iforrest" in lines[0] and "iforest, ocsvm" in lines[0]
    )
    assert not out.exists()


def test_validation_imports_no_numerical_library():
    code = (
        "import sys; import serendip.pipeline.config, serendip.classify.config,"
        " serendip.evaluate.config;"
        "heavy = [m for m in ('torch', 'sklearn', 'scipy', 'openTSNE') if m in sys.modules];"
        "print(heavy); sys.exit(bool(heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_evaluate_detector_settings_checked_before_the_table_is_read(tmp_path):
    from serendip.evaluate.config import check_detectors

    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    path = tmp_path / "c.toml"
    path.write_text(
        _EVAL_OK.replace('kind = "iforest"', 'kind = "iforest"\nparams = {n_trees = 5}')
    )
    cfg = load_evaluate(path)
    with pytest.raises(ConfigError, match=r"c.toml: detectors.x: bad parameters .*n_trees"):
        check_detectors(cfg, path)
    path.write_text(_EVAL_OK.replace('"iforest"', '"ClassifierLatent"'))
    check_detectors(load_evaluate(path), path)  # a model-file kind is a known name too


def test_the_embedder_counts_a_lowered_perplexity():
    """Library use: TSNEEmbedder lowers a perplexity above (n - 1) / 3 with a notice."""
    np = pytest.importorskip("numpy")
    from serendip.embed import TSNEEmbedder
    from serendip.notices import NoticeLog

    X = np.random.default_rng(0).normal(size=(40, 3))
    with NoticeLog() as log:
        TSNEEmbedder(perplexity=50, n_iter=50, early_exaggeration_iter=25).fit(X)
    codes = [n.code for n in log.records]
    assert "perplexity_lowered" in codes
