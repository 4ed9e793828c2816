// The one translation unit that compiles Catch2's main() for every aiolab test program.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
