"""Quality evaluations (`make bench` runs them through bench/): labelled corpora and the
figures measured on them."""
