// Softmax cross-entropy, one row at a time: subtract the row max, accumulate
// the exponentials in double. Rows are few and short, so this stays serial.
#include <algorithm>
#include <cmath>

#include "kernels.h"

namespace eb {

double softmax_cross_entropy(int n, int classes, const float* logits, const int32_t* labels,
                             float* dlogits) {
  double total = 0.0;
  const double inv_n = 1.0 / n;
  for (int i = 0; i < n; i++) {
    const float* row = logits + static_cast<int64_t>(i) * classes;
    float mx = row[0];
    for (int j = 1; j < classes; j++) mx = std::max(mx, row[j]);
    double s = 0.0;
    for (int j = 0; j < classes; j++) s += std::exp(static_cast<double>(row[j]) - mx);
    const int label = labels[i];
    total += std::log(s) - (static_cast<double>(row[label]) - mx);
    if (dlogits) {
      float* d = dlogits + static_cast<int64_t>(i) * classes;
      const double inv_s = 1.0 / s;
      for (int j = 0; j < classes; j++) {
        const double p = std::exp(static_cast<double>(row[j]) - mx) * inv_s;
        d[j] = static_cast<float>((p - (j == label ? 1.0 : 0.0)) * inv_n);
      }
    }
  }
  return total / n;  // n = 0 gives NaN, the mean of nothing
}

}  // namespace eb
