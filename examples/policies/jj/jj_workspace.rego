# jj workspace add ../../code-agent/<n> --name agent-<n>: creates an agent
# workspace beside the repository. Allowed only from a cwd of the form
# /home/user/workspace/code/<repo>, with both <n> equal and made of
# letters, digits, '_' and '-'.
package sandbox.jj

import rego.v1

workspace_prefix := "../../code-agent/"

allow if {
	input.command == "real_jj"
	repo_cwd
	count(input.args) == 5
	input.args[0] == "workspace"
	input.args[1] == "add"
	startswith(input.args[2], workspace_prefix)
	input.args[3] == "--name"
	name := trim_prefix(input.args[2], workspace_prefix)
	regex.match(`^[A-Za-z0-9_-]+$`, name)
	input.args[4] == concat("", ["agent-", name])
}

repo_cwd if regex.match(`^/home/user/workspace/code/[^/]+$`, input.cwd)
