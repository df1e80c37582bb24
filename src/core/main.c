#include "config-host.h"

#include "cli.h"

int main(int argc, char **argv)
{
  return cl_main(argc, argv);
}
