// The LibTorch adapter (opt-in; the only header family that names a host framework): mpq's
// quantizers and training strategies as autograd functions and torch::nn modules.
//
//   mpq::torch::lsq_fake_quantize              LSQ as an autograd function (mpq forward and backward)
//   mpq::torch::bind(strategy)                 a TrainingStrategy bound to LibTorch (training_state):
//                                              parameters() tensor, apply(), regularizer(), hooks
//   mpq::torch::QuantConv2d / QuantLinear      layers run through a bound strategy (EdMIPS composite
//                                              conv, Uhlich learned bits, QBitOpt, LIMPQ, Guo)
//   mpq::torch::LsqConv2d / LsqLinear          LSQ fake-quant layers with a bit-exact integer mode and
//                                              export_deployment() for mpq's integer kernels
//
// Needs LibTorch (Debian: libtorch-dev) and g++ (clang++-14 cannot compile LibTorch 1.13's headers in
// C++20). docs/training/ describes every entry point.
#pragma once

#include "mpq/adapters/torch/common.hpp"
#include "mpq/adapters/torch/lsq.hpp"
#include "mpq/adapters/torch/strategy.hpp"
