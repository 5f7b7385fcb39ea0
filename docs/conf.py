"""Sphinx configuration for the anyrelu documentation (build: sphinx-build -W docs docs/_build)."""

import anyrelu

project = "anyrelu"
author = "The anyrelu developers"
copyright = "2026, The anyrelu developers"
release = version = anyrelu.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # serves MathJax from _static: the math renders with no network
    "sphinx_copybutton",
    "matplotlib.sphinxext.plot_directive",
]
add_function_parentheses = False  # {func}`~anyrelu.relu` reads "relu", as the text around it does
myst_enable_extensions = ["colon_fence", "dollarmath"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]

autosummary_generate = True
autodoc_typehints = "none"  # the numpydoc "Parameters" sections say it in words
napoleon_google_docstring = False
napoleon_numpy_docstring = True

plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 120)]

html_theme = "furo"
html_title = f"anyrelu {release}"
html_static_path = ["_static"]
html_css_files = ["anyrelu.css"]
