# npm: "install --ignore-scripts", then optionally --save or --save-dev,
# then optionally "--", then one or more registry package specs.
# --ignore-scripts keeps lifecycle scripts from running (npm 10 ignores an
# unknown "--no-scripts"). A spec must start with a letter, a digit or a
# scope, so ".", "..", paths, URLs and options are all denied.
package sandbox.npm

import rego.v1

default allow := false

default allow_env := false

save_flags := {"--save", "--save-dev"}

allow if {
	count(input.args) >= 3
	input.args[0] == "install"
	input.args[1] == "--ignore-scripts"
	packages := without_separator(without_save(array.slice(input.args, 2, count(input.args))))
	count(packages) > 0
	every p in packages {
		package_spec(p)
	}
}

without_save(args) := array.slice(args, 1, count(args)) if args[0] in save_flags

without_save(args) := args if not args[0] in save_flags

without_separator(args) := array.slice(args, 1, count(args)) if args[0] == "--"

without_separator(args) := args if args[0] != "--"

# name or @scope/name, optionally followed by @ and a version (optionally
# after ~ or ^) or a tag. npm reads anything else after the @ (".evil",
# "..", "~", "/x") as a local path and runs that directory's prepare script
# even with --ignore-scripts.
package_spec(p) if {
	not startswith(p, "-")
	regex.match(`^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*(@([~^]?[0-9][0-9A-Za-z.+-]*|[A-Za-z][A-Za-z0-9._-]*))?$`, p)
}
