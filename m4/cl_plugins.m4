# CL_PLUGINS([NAME ...])
# Declares the plugins of the tree.  --enable-plugins=LIST (comma or space
# separated, default: all) chooses which are built; each NAME gets the
# automake conditional PLUGIN_<NAME>, with '-' turned into '_'.
AC_DEFUN([CL_PLUGINS], [
  AC_ARG_ENABLE([plugins],
    [AS_HELP_STRING([--enable-plugins=LIST],
      [plugins to build, comma-separated @<:@default: all@:>@ (known: $1)])],
    [], [enable_plugins=all])

  cl_known_plugins="$1"
  AS_IF([test "x$enable_plugins" = xall || test "x$enable_plugins" = xyes],
    [cl_wanted=" $cl_known_plugins "],
    [AS_IF([test "x$enable_plugins" = xno], [cl_wanted=" "],
      [cl_wanted=" `echo "$enable_plugins" | tr ',' ' '` "])])

  for cl_name in $cl_wanted; do
    AS_CASE([" $cl_known_plugins "], [*" $cl_name "*], [],
      [AC_MSG_ERROR([unknown plugin '$cl_name' in --enable-plugins (known: $cl_known_plugins)])])
  done

  cl_enabled_plugins=
  m4_foreach_w([cl_plugin], [$1], [
    AS_CASE([$cl_wanted], [*" ]cl_plugin[ "*],
      [cl_enabled_plugins="$cl_enabled_plugins ]cl_plugin["])
    AM_CONDITIONAL([PLUGIN_]m4_translit(m4_toupper(cl_plugin), [-], [_]),
      [case "$cl_wanted" in *" ]cl_plugin[ "*) true;; *) false;; esac])
  ])
  AC_SUBST([cl_enabled_plugins])
])
