# The out-of-tree example plugin is built against the installed tree by
# `make installcheck`, which `make distcheck` runs too.
EXTRA_DIST += examples/hello-plugin/hello.c examples/hello-plugin/Makefile \
	examples/hello-plugin/check-installed.sh

installcheck-local:
	$(SHELL) $(srcdir)/examples/hello-plugin/check-installed.sh \
		'$(DESTDIR)$(prefix)' '$(srcdir)/examples/hello-plugin'
