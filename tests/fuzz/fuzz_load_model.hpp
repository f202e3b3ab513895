// The packed-model loader's fuzz target (shared by the libFuzzer binary and the seed replay test).
#pragma once

#include <cstddef>
#include <cstdint>

/// @brief Loads `data` as a packed-model file image. Every input must either be refused with a
/// status, or load into a model that serializes back to exactly the same bytes (the format has one
/// encoding per model); anything else aborts.
int mpq_fuzz_load_model(const std::uint8_t* data, std::size_t size);
