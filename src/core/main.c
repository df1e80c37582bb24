#include "config-host.h"
int main(void)
{
  return 0;
}
