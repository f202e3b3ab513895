// The seed corpus of the loader fuzzer.
#pragma once

#include <cstdint>
#include <vector>

/// @brief Small valid packed-model file images.
std::vector<std::vector<std::uint8_t>> mpq_fuzz_seeds();
