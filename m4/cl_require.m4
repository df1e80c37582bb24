# CL_REQUIRE_PKG(VARIABLE, MODULES, DEBIAN-PACKAGE)
# Looks up MODULES with pkg-config into VARIABLE_CFLAGS and VARIABLE_LIBS and
# stops configure with the Debian package to install when they are missing.
AC_DEFUN([CL_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found: install the Debian package $3])])
])
