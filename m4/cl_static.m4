# CL_STATIC_HELPERS
# --enable-static-helpers (default yes) links the in-container helpers
# statically.  Sanitizer builds cannot link statically, so they pass
# --disable-static-helpers.  With static linking on, configure checks that
# the static archives of libuv, jansson, http-parser and libcrypto exist.
AC_DEFUN([CL_STATIC_HELPERS], [
  AC_ARG_ENABLE([static-helpers],
    [AS_HELP_STRING([--disable-static-helpers],
      [link the in-container helpers dynamically (for sanitizer builds)])],
    [], [enable_static_helpers=yes])

  HELPER_LDFLAGS=
  HELPER_UV_LIBS="$LIBUV_LIBS"
  AS_IF([test "x$enable_static_helpers" = xyes], [
    cl_libdir=`$PKG_CONFIG --variable=libdir libuv`
    for cl_archive in libuv_a.a libjansson.a libhttp_parser.a libcrypto.a; do
      AC_MSG_CHECKING([for $cl_archive])
      AS_IF([test -f "$cl_libdir/$cl_archive"], [AC_MSG_RESULT([yes])], [
        AC_MSG_RESULT([no])
        AS_CASE([$cl_archive],
          [libuv_a.a], [cl_pkg=libuv1-dev],
          [libjansson.a], [cl_pkg=libjansson-dev],
          [libhttp_parser.a], [cl_pkg=libhttp-parser-dev],
          [cl_pkg=libssl-dev])
        AC_MSG_ERROR([$cl_libdir/$cl_archive not found: install the Debian package $cl_pkg, or configure with --disable-static-helpers])
      ])
    done
    HELPER_LDFLAGS=-all-static
    HELPER_UV_LIBS=`$PKG_CONFIG --libs --static libuv-static`
  ])
  AC_SUBST([HELPER_LDFLAGS])
  AC_SUBST([HELPER_UV_LIBS])
  AM_CONDITIONAL([STATIC_HELPERS], [test "x$enable_static_helpers" = xyes])
])
