# uv: "pip download --dest /home/user/pip-cache" followed by either
# "-r <requirements file>" or one or more package specs. Nothing is
# installed or built.
package sandbox.uv

import rego.v1

default allow := false

default allow_env := false

prefix := ["pip", "download", "--dest", "/home/user/pip-cache"]

allow if {
	count(input.args) > count(prefix)
	array.slice(input.args, 0, count(prefix)) == prefix
	sources_allowed(array.slice(input.args, count(prefix), count(input.args)))
}

sources_allowed(rest) if {
	count(rest) == 2
	rest[0] == "-r"
	regex.match(`^[A-Za-z0-9._/-]+\.txt$`, rest[1])
	not startswith(rest[1], "-")
}

sources_allowed(rest) if {
	every spec in rest {
		regex.match(`^[A-Za-z0-9._-]+(\[[A-Za-z0-9,._-]+\])?(([=<>!~]=|[<>])[A-Za-z0-9.*]+)?$`, spec)
	}
}
