//===- Fidelity.cpp - How well a cheap proxy ranks update rules -----------===//
//
// The rules are fixed by the sample seed (the first ones the random
// strategy draws that pass the screen, have a fingerprint of their own and
// pass the hurdle), so rerunning the study with the same options finds its
// earlier results by (proxy, canonical rule, seed). A search sees one child
// seed, so the single-seed correlation is the one that matters for the
// choice of proxy; the seed-mean one says how much of the gap is noise.
//
//===----------------------------------------------------------------------===//
#include "nos/studies/Fidelity.h"

#include "nos/Builtins.h"
#include "nos/Compiler.h"
#include "nos/Files.h"
#include "nos/report/Plot.h"
#include "nos/report/Runs.h"
#include "nos/search/Search.h"
#include "nos/search/Strategies.h"
#include "nos/studies/Evaluations.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>
#include <stdexcept>

namespace nos::studies {
using namespace search;

std::vector<double> averageRanks(const std::vector<double> &v) {
  std::vector<size_t> order;
  for (size_t i = 0; i < v.size(); ++i)
    if (std::isfinite(v[i]))
      order.push_back(i);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size(), NAN);
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]])
      ++j;
    for (size_t k = i; k <= j; ++k)
      r[order[k]] = 0.5 * double(i + j); // ties share their mean rank
    i = j + 1;
  }
  return r;
}

double spearman(const std::vector<double> &a, const std::vector<double> &b) {
  if (a.size() != b.size() || a.size() < 2)
    return 0;
  std::vector<double> ra = averageRanks(a), rb = averageRanks(b);
  double n = double(a.size()), ma = (n - 1) / 2, sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - ma);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - ma) * (rb[i] - ma);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0;
}

namespace {
/// The references, then sampled rules that a search would have trained.
std::vector<RatedRule> studyRules(const FidelityOptions &o) {
  std::vector<RatedRule> rules;
  ProxySpec toy;
  toy.kind = "toy";
  Pipeline cheap(toy);
  std::set<std::string> fingerprints;
  auto admit = [&](Candidate &c, const std::string &label) {
    cheap.canonicalize(c);
    if (c.settled())
      return;
    cheap.probe(c);
    if (c.settled() || !fingerprints.insert(c.fingerprint).second)
      return;
    std::string error;
    CompiledRule compiled = Compiler::shared().compileRule(*c.expr, &error);
    if (!compiled || !train::runHurdle(compiled, train::HurdleSpec{}).passed)
      return;
    rules.push_back({label.empty() ? c.rule : label, c.canonical});
  };
  for (const RatedRule &r : referenceRatedRules()) {
    Candidate c;
    c.rule = r.canonical;
    admit(c, r.label);
  }
  Space space(2);
  Rng rng(o.sampleSeed);
  size_t want = rules.size() + size_t(o.sampledRules);
  for (int tries = 0; rules.size() < want && tries < 100000; ++tries) {
    Candidate c;
    c.tokens = space.tokens(sampleUniform(space, rng));
    admit(c, "");
  }
  return rules;
}

std::string prepare(const std::string &dir) {
  std::filesystem::create_directories(dir);
  return dir;
}

class Study {
public:
  explicit Study(const FidelityOptions &o)
      : options_(o), log_(prepare(o.dir) + "/results.jsonl") {
    // The full task first: every correlation is against it.
    names_ = {"full"};
    for (const std::string &n : o.proxies)
      if (std::find(names_.begin(), names_.end(), n) == names_.end())
        names_.push_back(n);
    for (const std::string &n : names_)
      train::proxyPreset(n); // rejects an unknown name before any work
  }

  void run() {
    rules_ = studyRules(options_);
    std::vector<uint64_t> seeds;
    for (int s = 0; s < options_.seeds; ++s)
      seeds.push_back(uint64_t(s));
    log_.complete(names_, rules_, seeds, options_.workers,
                  "nos-search fidelity", options_.device);
  }

  void report() const;

private:
  FidelityOptions options_;
  std::vector<std::string> names_;
  EvaluationLog log_;
  std::vector<RatedRule> rules_;

  friend struct Analysis;
};

/// Per proxy: rewards [seed][rule], cost and the correlations.
struct ProxyFigures {
  std::string name;
  std::vector<std::vector<double>> rewards, lrs;
  std::vector<double> mean;
  double seconds = 0, rhoSeed = 0, rhoMean = 0;
  /// Among the better half of the rules on the full task: can the proxy
  /// still order the rules worth finding?
  double rhoTop = 0;
};

/// The entries of `v` at `index`.
std::vector<double> pick(const std::vector<double> &v,
                         const std::vector<size_t> &index) {
  std::vector<double> out;
  for (size_t i : index)
    out.push_back(v[i]);
  return out;
}

struct Analysis {
  std::vector<ProxyFigures> proxies;
  std::vector<RatedRule> rules;
  int seeds = 0;

  explicit Analysis(const Study &s) : rules(s.rules_), seeds(s.options_.seeds) {
    for (const std::string &n : s.names_) {
      ProxyFigures f;
      f.name = n;
      f.rewards.assign(seeds, std::vector<double>(rules.size(), 0));
      f.lrs = f.rewards;
      f.mean.assign(rules.size(), 0);
      double jobs = 0;
      for (int k = 0; k < seeds; ++k)
        for (size_t r = 0; r < rules.size(); ++r) {
          const Evaluation *e = s.log_.find(n, rules[r].canonical, uint64_t(k));
          if (!e)
            throw std::runtime_error("missing result for " + n + " " +
                                     rules[r].label);
          f.rewards[k][r] = e->reward;
          f.lrs[k][r] = e->bestLr;
          f.mean[r] += e->reward / seeds;
          f.seconds += e->seconds, jobs += 1;
        }
      f.seconds /= std::max(jobs, 1.0);
      proxies.push_back(f);
    }
    const ProxyFigures &full = proxies[0];
    std::vector<size_t> top(rules.size());
    std::iota(top.begin(), top.end(), size_t(0));
    std::stable_sort(top.begin(), top.end(), [&](size_t a, size_t b) {
      return full.mean[a] > full.mean[b];
    });
    top.resize(rules.size() / 2);
    for (ProxyFigures &f : proxies) {
      f.rhoMean = spearman(f.mean, full.mean);
      for (int k = 0; k < seeds; ++k) {
        f.rhoSeed += spearman(f.rewards[k], full.mean) / seeds;
        f.rhoTop +=
            spearman(pick(f.rewards[k], top), pick(full.mean, top)) / seeds;
      }
    }
  }

  const ProxyFigures *find(const std::string &name) const {
    for (const ProxyFigures &f : proxies)
      if (f.name == name)
        return &f;
    return nullptr;
  }

  /// How often halving picks another lr, over the references and over all
  /// rules, and in how many seeds another reference wins.
  std::string halvingEffect(const ProxyFigures &h,
                            const ProxyFigures &plain) const {
    size_t refs = referenceNames().size();
    int lrRefs = 0, lrAll = 0, winner = 0;
    for (int k = 0; k < seeds; ++k) {
      size_t bestH = 0, bestP = 0;
      for (size_t r = 0; r < rules.size(); ++r) {
        bool differs = h.lrs[k][r] != plain.lrs[k][r];
        lrAll += differs;
        if (r < refs) {
          lrRefs += differs;
          bestH = h.rewards[k][r] > h.rewards[k][bestH] ? r : bestH;
          bestP = plain.rewards[k][r] > plain.rewards[k][bestP] ? r : bestP;
        }
      }
      winner += bestH != bestP;
    }
    return fmt::format("{} vs {}: another lr for {} of {} reference runs and "
                       "{} of {} runs in all; another best reference in {} "
                       "of {} seeds; rank correlation {:.3f}\n",
                       h.name, plain.name, lrRefs, refs * seeds, lrAll,
                       rules.size() * seeds, winner, seeds,
                       spearman(h.mean, plain.mean));
  }

  std::string text() const {
    std::string s = fmt::format(
        "Proxy fidelity: {} rules ({} references, {} sampled) x {} seeds; "
        "Spearman rank correlation with the full task's seed-mean rewards\n\n",
        rules.size(), referenceNames().size(),
        rules.size() - referenceNames().size(), seeds);
    s += fmt::format("{:<18} {:>8} {:>9} {:>11} {:>9} {:>9}\n", "proxy",
                     "s/rule", "cheaper", "rho 1 seed", "rho mean", "rho top");
    for (const ProxyFigures &f : proxies)
      s += fmt::format(
          "{:<18} {:>8.3f} {:>8.1f}x {:>11.3f} {:>9.3f} {:>9.3f}\n", f.name,
          f.seconds, proxies[0].seconds / std::max(f.seconds, 1e-9), f.rhoSeed,
          f.rhoMean, f.rhoTop);
    s += "(s/rule: child training per rule and seed on one core, two "
         "workers; rho 1 seed: mean over seeds of one seed's ranking against "
         "the full task's seed mean; rho top: the same among the better half "
         "of the rules)\n";

    s += "\n";
    for (const ProxyFigures &f : proxies) {
      size_t cut = f.name.rfind("-halving");
      if (cut == std::string::npos)
        continue;
      if (const ProxyFigures *plain = find(f.name.substr(0, cut)))
        s += halvingEffect(f, *plain);
    }
    s += "\nSeed-mean reward per rule, one column per proxy in the order "
         "above:\n";
    std::vector<size_t> order(rules.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return proxies[0].mean[a] > proxies[0].mean[b];
    });
    for (size_t r : order) {
      s += fmt::format("  {:.4f}", proxies[0].mean[r]);
      for (size_t p = 1; p < proxies.size(); ++p)
        s += fmt::format(" {:.4f}", proxies[p].mean[r]);
      s += "  " + rules[r].label + "\n";
    }
    return s;
  }

  std::string json() const {
    nlohmann::json j;
    j["rules"] = rules.size();
    j["seeds"] = seeds;
    for (const ProxyFigures &f : proxies)
      j["proxies"][f.name] = {{"seconds_per_rule", f.seconds},
                              {"spearman_single_seed", f.rhoSeed},
                              {"spearman_seed_mean", f.rhoMean},
                              {"spearman_top_half", f.rhoTop}};
    j["default_proxy"] = defaultProxyName();
    return j.dump(1) + "\n";
  }

  /// Rank correlation against cost per rule (log x): filled circles over
  /// all rules, open ones among the better half; points are numbered and
  /// named in the legend, since the cheap proxies crowd together.
  std::string svg() const {
    const double W = 860, H = 440, x0 = 70, y0 = 40, w = 520, h = 320;
    const double ylo = -0.4, yhi = 1.0;
    double lo = 1e9, hi = 0;
    for (const ProxyFigures &f : proxies)
      lo = std::min(lo, f.seconds), hi = std::max(hi, f.seconds);
    lo /= 1.5, hi *= 1.5;
    report::Panel panel{x0, y0, w, h, lo, hi, ylo, yhi, true};
    std::string s = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
        "height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n"
        "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        "<text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">"
        "How well each proxy ranks {} rules like the full task, against its "
        "cost</text>\n",
        W, H, W / 2, rules.size());
    s += panel.axes("seconds of child training per rule and seed (log)",
                    "Spearman rho with the full task, one child seed");
    s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" "
                     "y2=\"{:.1f}\" stroke=\"#999\"/>\n",
                     x0, x0 + w, panel.py(0), panel.py(0));
    double lx = x0 + w + 20, ly = y0 + 8;
    s += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"#1f77b4\"/>"
                     "<text x=\"{}\" y=\"{}\">all rules</text>\n"
                     "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"white\" "
                     "stroke=\"#1f77b4\" stroke-width=\"2\"/><text x=\"{}\" "
                     "y=\"{}\">better half only</text>\n",
                     lx + 5, ly, lx + 16, ly + 4, lx + 5, ly + 18, lx + 16,
                     ly + 22);
    for (size_t k = 0; k < proxies.size(); ++k) {
      const ProxyFigures &f = proxies[k];
      bool chosen = f.name == defaultProxyName();
      const char *color = chosen ? "#d62728" : "#1f77b4";
      double x = panel.px(f.seconds);
      s += fmt::format(
          "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" "
          "y2=\"{2:.1f}\" stroke=\"{3}\" stroke-dasharray=\"2,2\"/>\n"
          "<circle cx=\"{0:.1f}\" cy=\"{1:.1f}\" r=\"5\" fill=\"{3}\"/>\n"
          "<circle cx=\"{0:.1f}\" cy=\"{2:.1f}\" r=\"5\" fill=\"white\" "
          "stroke=\"{3}\" stroke-width=\"2\"/>\n"
          "<text x=\"{4:.1f}\" y=\"{5:.1f}\" font-size=\"10\" "
          "fill=\"{3}\">{6}</text>\n",
          x, panel.py(f.rhoSeed), panel.py(f.rhoTop), color, x + 6,
          panel.py(f.rhoSeed) - 5 - 9.0 * double(k % 2), k + 1);
      s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" fill=\"{}\">{:>2} {}{}"
                       "</text>\n",
                       lx, ly + 48 + 16.0 * double(k), color, k + 1,
                       report::escapeXml(f.name), chosen ? " (default)" : "");
    }
    return s + "</svg>\n";
  }
};

void Study::report() const {
  Analysis a(*this);
  std::string text = a.text();
  for (auto [name, body] :
       {std::pair<std::string, std::string>{"report.txt", text},
        {"report.json", a.json()},
        {"report.svg", a.svg()}}) {
    std::string error = writeFileAtomically(options_.dir + "/" + name, {body});
    if (!error.empty())
      throw std::runtime_error(error);
  }
  fmt::print("{}", text);
}
} // namespace

int runFidelity(const FidelityOptions &options) {
  return runStudy("nos-search fidelity", [&] {
    Study study(options);
    study.run();
    study.report();
  });
}

} // namespace nos::studies
