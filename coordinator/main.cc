// sluice: the coordinator and operator CLI.
#include "coordinator/cli.h"

int main(int argc, char** argv) { return sluice::RunCli(argc, argv); }
