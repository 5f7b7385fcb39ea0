"""One module per array library: the kernels that replace a reference body for that library,
as ``KERNELS`` (function name -> kernel). ``_dispatch.py`` picks the module by x's library."""
