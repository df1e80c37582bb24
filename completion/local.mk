# Bash completion.  The file is named after the command because
# bash-completion loads completions/<command> on demand.
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = completion/cladding

TESTS += tests/completion/test-completion.sh
EXTRA_DIST += tests/completion/test-completion.sh
