/* A test module that exports no `cladding_plugin` symbol. */
#include "config-host.h"

int cladding_plugin_misspelled(void);

int cladding_plugin_misspelled(void)
{
  return 42;
}
