# The out-of-tree example plugin is built against the installed tree by
# `make installcheck`, which `make distcheck` runs too.
EXTRA_DIST += examples/hello-plugin/hello.c examples/hello-plugin/Makefile \
	examples/hello-plugin/check-installed.sh

EXTRA_DIST += tests/install/installed.sh

# The plugin-directory checks move an installed file, so they run only on a
# plain installation, not on a DESTDIR staging tree.
installcheck-local: tests/plugins/wrong_abi.la
	$(SHELL) $(srcdir)/examples/hello-plugin/check-installed.sh \
		'$(DESTDIR)$(prefix)' '$(srcdir)/examples/hello-plugin'
	if test -z '$(DESTDIR)'; then \
	  $(SHELL) $(srcdir)/tests/install/installed.sh '$(prefix)' \
	    '$(plugindir)' '$(abs_builddir)/tests/plugins/.libs/wrong_abi.so'; \
	fi
