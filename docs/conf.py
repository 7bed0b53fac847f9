"""Sphinx configuration of the serendip documentation site.

Build locally with ``pip install -e ".[docs]" && sphinx-build -W -b html docs build/docs``.
Generated pages (configuration, CLI, mission, detector and feature-case references) are
written at build time by ``docs/_ext/serendip_docs.py`` from the code's own registries,
so they never drift from the code. The tutorials in ``examples/`` are executed by
sphinx-gallery on every build: a tutorial whose code fails breaks the build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("MPLBACKEND", "Agg")

import serendip  # noqa: E402

project = "serendip"
author = "the serendip developers"
copyright = "2026, the serendip developers"
release = version = serendip.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "serendip_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json"]
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3
suppress_warnings = [
    "myst.header",  # BENCHMARKS.md starts its sections at level 2 on purpose
    # a name re-exported by its stage package and by ``serendip`` is one object documented
    # under two paths; napoleon's type links then find both targets (same object)
    "ref.python",
]

autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_mock_imports: list[str] = []
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True  # attributes as fields: no second description of dataclass fields
nitpicky = False

html_theme = "furo"
html_title = f"serendip {release}"
html_static_path: list[str] = []

sphinx_gallery_conf = {
    "examples_dirs": [str(ROOT / "examples")],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/tutorial_",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "plot_gallery": "True",
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
}
