# jj commands an agent may run inside its own workspace: commit, util
# snapshot, and shapes of describe, edit, new, squash and abandon. Allowed
# only from a cwd under /home/user/workspace/code-agent/. Messages and
# operands are 1 to 4096 characters; operands must not start with '-'.
package sandbox.jj

import rego.v1

default allow := false

default allow_env := false

agent_cwd if {
	input.command == "real_jj"
	startswith(input.cwd, "/home/user/workspace/code-agent/")
}

text_ok(s) if {
	is_string(s)
	count(s) >= 1
	count(s) <= 4096
}

operand_ok(s) if {
	text_ok(s)
	not startswith(s, "-")
}

allow if {
	agent_cwd
	count(input.args) == 3
	input.args[0] == "commit"
	input.args[1] == "-m"
	text_ok(input.args[2])
}

allow if {
	agent_cwd
	input.args == ["util", "snapshot"]
}

# describe -m <message> [<revision>]
allow if {
	agent_cwd
	count(input.args) in {3, 4}
	input.args[0] == "describe"
	input.args[1] == "-m"
	text_ok(input.args[2])
	every rev in array.slice(input.args, 3, count(input.args)) {
		operand_ok(rev)
	}
}

# edit <revision>, abandon <revision>
allow if {
	agent_cwd
	count(input.args) == 2
	input.args[0] in {"edit", "abandon"}
	operand_ok(input.args[1])
}

# new [<revision>], squash
allow if {
	agent_cwd
	input.args[0] in {"new", "squash"}
	count(input.args) <= 2
	every rev in array.slice(input.args, 1, count(input.args)) {
		operand_ok(rev)
	}
}
