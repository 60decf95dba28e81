/* sx_pool_stub.c: the pool API in sanitizer builds, where ASan owns malloc. */
#include "sx_pool.h"

bool sx_pool_set_cap(size_t bytes)
{
	(void)bytes;
	return true;
}

size_t sx_pool_cap(void)
{
	return 0;
}

size_t sx_pool_footprint(void)
{
	return 0;
}

bool sx_pool_active(void)
{
	return false;
}
