// sluice: the coordinator and operator CLI (cli/commands.cc lists the commands).
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  return sluice::cli::RunCommandLine(argc, argv, std::cout, std::cerr);
}
