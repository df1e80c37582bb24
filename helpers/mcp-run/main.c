/* mcp-run: the sandbox command server.  Its environment configures it;
 * it takes no arguments. */
#include "config-host.h"

#include "server.h"

int main(void)
{
  return mcp_run_main();
}
