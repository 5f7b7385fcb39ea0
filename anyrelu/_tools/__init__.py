"""The command line (``python -m anyrelu``): the demo, the benchmark, the plots and the list of
array libraries. The library itself needs none of this."""
