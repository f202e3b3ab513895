// What the training examples print at the end: the derived allocation and how it meets each budget.
#pragma once

#include <cstdio>

#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"

namespace training_example {

inline void print_allocation(const mpq::problem& p, const mpq::search_result& r) {
  std::printf("%s allocation:", r.strategy);
  for (std::size_t l = 0; l < r.bits.size(); ++l)
    std::printf(" %s W%dA%d", p.layer(l).name.c_str(), r.bits[l].w, r.bits[l].a);
  std::printf("\n");
  for (const auto& c : r.constraints)
    std::printf("  %s: %.6g of %.6g (slack %.6g)%s\n", c.name.c_str(), c.use, c.budget, c.slack,
                c.binding ? ", binding" : "");
}

}  // namespace training_example
