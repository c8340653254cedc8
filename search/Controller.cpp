//===- Controller.cpp - The LSTM controller, trained by PPO or REINFORCE --===//
//
// Bello et al.'s controller: an LSTM emits the token form one softmax at a
// time, each sampled token embedded and fed back as the next input. Every
// softmax is masked to the position's valid tokens, so every sample parses.
// Sampling draws from the search's own Rng rather than torch's generator,
// which keeps proposals deterministic and resumable; weights start uniform
// in +-initScale from the same Rng. The reward baseline is an exponential
// moving average; PPO takes several clipped-surrogate epochs over a batch,
// REINFORCE one plain policy-gradient step. PPO's old policy is the one
// that sampled the batch, whose log-probabilities the sampler keeps until
// the batch is learnt: with a pipeline the policy has moved since. A
// novelty target steers the entropy bonus, as SAC steers its temperature
// towards a target entropy, but towards the share of proposals that are
// not copies, which is what a collapsed search lacks.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Controller.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace nos::search {

namespace {

/// The proposals whose rewards teach: a copy's is NaN (copiesTeachNothing).
std::vector<int64_t> taughtIndices(const std::vector<double> &rewards) {
  std::vector<int64_t> taught;
  for (size_t k = 0; k < rewards.size(); ++k)
    if (!std::isnan(rewards[k]))
      taught.push_back(int64_t(k));
  return taught;
}

struct PolicyImpl : torch::nn::Module {
  PolicyImpl(int vocabulary, const StrategyOptions &o)
      : embed(register_module(
            "embed", torch::nn::Embedding(vocabulary + 1, o.embedding))),
        head(register_module("head", torch::nn::Linear(o.hidden, vocabulary))),
        hidden(o.hidden) {
    for (int k = 0; k < o.layers; ++k)
      cells.push_back(register_module(
          "cell" + std::to_string(k),
          torch::nn::LSTMCell(k == 0 ? o.embedding : o.hidden, o.hidden)));
  }

  /// One position for a batch: the next logits, updating (h, c) per layer.
  torch::Tensor
  stepLogits(const torch::Tensor &input,
             std::vector<std::tuple<torch::Tensor, torch::Tensor>> &state) {
    torch::Tensor x = embed->forward(input);
    for (size_t k = 0; k < cells.size(); ++k) {
      state[k] = cells[k]->forward(x, state[k]);
      x = std::get<0>(state[k]);
    }
    return head->forward(x);
  }

  std::vector<std::tuple<torch::Tensor, torch::Tensor>> zeroState(int64_t n) {
    std::vector<std::tuple<torch::Tensor, torch::Tensor>> s;
    for (size_t k = 0; k < cells.size(); ++k)
      s.push_back({torch::zeros({n, hidden}), torch::zeros({n, hidden})});
    return s;
  }

  torch::nn::Embedding embed;
  torch::nn::Linear head;
  std::vector<torch::nn::LSTMCell> cells;
  int64_t hidden;
};
TORCH_MODULE(Policy);

class Controller : public Strategy {
public:
  Controller(const StrategyOptions &o, const Space &space)
      : o_(checked(o)), space_(space), rng_(o.seed),
        policy_(int(space.vocabulary().size()), o), weight_(o.entropyWeight) {
    initialise();
    optimizer_ = std::make_unique<torch::optim::Adam>(
        policy_->parameters(), torch::optim::AdamOptions(o.learningRate));
    for (int pos = 0; pos < space.length(); ++pos) {
      std::vector<float> m(space.vocabulary().size(), -INFINITY);
      for (int id : space.valid(pos))
        m[id] = 0;
      masks_.push_back(torch::tensor(m));
    }
    allMasks_ = torch::stack(masks_); // [positions, vocabulary]
  }

  std::vector<Actions> propose(int count) override {
    torch::NoGradGuard noGrad;
    sampled_.push_back(sampleBatch(count));
    return sampled_.back().actions;
  }

  void learn(const std::vector<Actions> &batch,
             const std::vector<double> &rewards,
             const std::vector<bool> &) override {
    if (batch.empty())
      return;
    torch::Tensor advantages = advantagesOf(rewards);
    torch::Tensor actions = actionTensor(batch);
    int epochs = o_.name == "ppo" ? o_.ppoEpochs : 1;
    std::optional<torch::Tensor> sampler = samplerLogProbs(batch);
    torch::Tensor old; // the sampling policy's log-probabilities
    for (int e = 0; e < epochs; ++e) {
      auto [logp, entropy] = logProbs(actions);
      torch::Tensor total = logp.sum(1);
      if (e == 0) {
        // A batch this controller did not sample (or sampled before a
        // resume from a state that did not keep it) has the current
        // policy as its old one.
        old = sampler ? *sampler : total.detach();
        staleness_ = (old - total.detach()).mean().item<double>();
      }
      torch::Tensor objective = o_.name == "ppo"
                                    ? surrogate(total, old, advantages)
                                    : total * advantages;
      entropy_ = entropy.sum(1).mean().item<double>();
      torch::Tensor loss = -objective.mean() - weight_ * entropy.sum(1).mean();
      optimizer_->zero_grad();
      loss.backward();
      if (!finiteStep(loss)) {
        ++skipped_;
        break;
      }
      optimizer_->step();
    }
    ++updates_;
    steer(rewards);
  }

  std::string saveState() const override {
    std::ostringstream weights;
    torch::serialize::OutputArchive archive;
    policy_->save(archive);
    torch::serialize::OutputArchive moments;
    optimizer_->save(moments);
    archive.write("adam", moments);
    archive.save_to(weights);
    nlohmann::json head{
        {"strategy", o_.name},       {"rng", rng_.engine().save()},
        {"baseline", baseline_},     {"has_baseline", hasBaseline_},
        {"updates", updates_},       {"entropy", entropy_},
        {"entropy_weight", weight_}, {"skipped_steps", skipped_},
        {"staleness", staleness_}};
    for (const Sampled &b : sampled_)
      head["sampled"].push_back({{"actions", b.actions}, {"logp", b.logp}});
    std::string text = head.dump();
    return std::to_string(text.size()) + "\n" + text + weights.str();
  }

  void loadState(const std::string &bytes) override {
    size_t newline = bytes.find('\n');
    size_t length = newline == std::string::npos
                        ? 0
                        : std::strtoull(bytes.c_str(), nullptr, 10);
    if (newline == std::string::npos || newline + 1 + length > bytes.size())
      throw std::runtime_error("the stored controller state is damaged");
    nlohmann::json head = nlohmann::json::parse(
        bytes.substr(newline + 1, length), nullptr, false);
    if (head.is_discarded() || head.value("strategy", "") != o_.name)
      throw std::runtime_error("the stored state is not a " + o_.name +
                               " controller's");
    // Before 838f94c an overflow could make the policy NaN for good (its
    // entropy is stored as null); such a run would propose one rule.
    if (head.contains("entropy") && !head["entropy"].is_number())
      throw std::runtime_error(
          "the stored controller's policy is NaN (an overflow fixed in "
          "838f94c): it would propose one rule forever; start a new run");
    std::istringstream weights(bytes.substr(newline + 1 + length));
    try {
      torch::serialize::InputArchive archive;
      archive.load_from(weights);
      policy_->load(archive);
      torch::serialize::InputArchive moments;
      archive.read("adam", moments);
      optimizer_->load(moments);
    } catch (const c10::Error &e) {
      throw std::runtime_error(std::string("the stored controller weights "
                                           "cannot be read: ") +
                               e.what_without_backtrace());
    }
    if (!rng_.engine().load(head.value("rng", "")))
      throw std::runtime_error("the stored controller state is damaged");
    baseline_ = head.value("baseline", 0.0);
    hasBaseline_ = head.value("has_baseline", false);
    updates_ = head.value("updates", 0);
    entropy_ = head.value("entropy", 0.0);
    weight_ = head.value("entropy_weight", o_.entropyWeight);
    skipped_ = head.value("skipped_steps", 0);
    staleness_ = head.value("staleness", 0.0);
    sampled_.clear();
    for (const nlohmann::json &b : head.value("sampled", nlohmann::json()))
      sampled_.push_back({b.at("actions").get<std::vector<Actions>>(),
                          b.at("logp").get<std::vector<double>>()});
  }

  std::string describe() const override {
    char line[160];
    int n = std::snprintf(line, sizeof line,
                          "updates %d, baseline %.4f, entropy %.2f, "
                          "staleness %.3g",
                          updates_, baseline_, entropy_, staleness_);
    if (steered())
      n += std::snprintf(line + n, sizeof line - size_t(n), ", weight %.4g",
                         weight_);
    if (skipped_ > 0)
      std::snprintf(line + n, sizeof line - size_t(n),
                    ", non-finite steps skipped: %d", skipped_);
    return line;
  }

private:
  static const StrategyOptions &checked(const StrategyOptions &o) {
    if (o.hidden < 1 || o.layers < 1 || o.embedding < 1 || o.ppoEpochs < 1 ||
        !(o.learningRate > 0) || !(o.clip > 0) || !(o.baselineDecay >= 0) ||
        !(o.baselineDecay < 1) || !(o.initScale > 0) ||
        !(o.noveltyTarget >= 0) || !(o.noveltyTarget < 1))
      throw std::invalid_argument("bad controller setting (hidden, layers, "
                                  "embedding, epochs >= 1; lr, clip, init "
                                  "scale > 0; 0 <= baseline decay, novelty "
                                  "target < 1)");
    return o;
  }

  /// Copies are seen as NaN rewards; with their original's reward every
  /// proposal would look new, so that setting is not steered, nor is a
  /// bonus of 0, which stays 0 when multiplied.
  bool steered() const {
    return o_.noveltyTarget > 0 && o_.copiesTeachNothing() &&
           o_.entropyWeight > 0;
  }

  /// Multiplies the entropy weight by exp(rate * (target - novelty)),
  /// never below --entropy-weight: the target is a floor on novelty, so a
  /// search that explores enough learns as it did without one. A batch of
  /// copies raises the weight by a twentieth, so a few batches' noise (8
  /// proposals each) moves it little, while a collapse, which lasts
  /// hundreds of batches, doubles it every 14. The cap keeps the bonus
  /// from drowning the reward for good.
  void steer(const std::vector<double> &rewards) {
    if (!steered() || rewards.empty())
      return;
    double novelty =
        double(taughtIndices(rewards).size()) / double(rewards.size());
    constexpr double kRate = 0.1, kMax = 1.0;
    weight_ =
        std::clamp(weight_ * std::exp(kRate * (o_.noveltyTarget - novelty)),
                   o_.entropyWeight, kMax);
  }

  void initialise() {
    torch::NoGradGuard noGrad;
    for (torch::Tensor &p : policy_->parameters()) {
      std::vector<float> values(size_t(p.numel()));
      for (float &v : values)
        v = float((2 * rng_.uniform() - 1) * o_.initScale);
      p.copy_(torch::tensor(values).view(p.sizes()));
    }
  }

  /// A batch as sampled: each rule's actions and its log-probability under
  /// the policy that sampled it.
  struct Sampled {
    std::vector<Actions> actions;
    std::vector<double> logp;
  };

  /// The sampling policy's log-probabilities of `batch`, if this controller
  /// sampled it; batches sampled before it are dropped (never learnt).
  std::optional<torch::Tensor>
  samplerLogProbs(const std::vector<Actions> &batch) {
    auto it =
        std::find_if(sampled_.begin(), sampled_.end(),
                     [&](const Sampled &b) { return b.actions == batch; });
    if (it == sampled_.end())
      return std::nullopt;
    torch::Tensor logp =
        torch::tensor(it->logp, torch::kDouble).to(torch::kFloat);
    sampled_.erase(sampled_.begin(), it + 1);
    return logp;
  }

  /// All `count` samples in one batch, one LSTM step per position. The
  /// uniforms are drawn as sampling one rule at a time drew them.
  Sampled sampleBatch(int count) {
    int64_t n = count, length = space_.length();
    std::vector<double> u(size_t(n * length));
    for (double &x : u)
      x = rng_.uniform();
    auto state = policy_->zeroState(n);
    torch::Tensor input =
        torch::full({n}, int64_t(space_.vocabulary().size()), torch::kLong);
    Sampled out{std::vector<Actions>(static_cast<size_t>(n)),
                std::vector<double>(static_cast<size_t>(n), 0.0)};
    for (int pos = 0; pos < length; ++pos) {
      torch::Tensor logits = policy_->stepLogits(input, state) + masks_[pos];
      torch::Tensor p = torch::softmax(logits.to(torch::kDouble), 1);
      const double *probs = p.contiguous().data_ptr<double>();
      int64_t vocabulary = p.size(1);
      std::vector<int64_t> chosen(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        const double *row = probs + i * vocabulary;
        double draw = u[size_t(i * length + pos)], sum = 0;
        int choice = space_.valid(pos).back();
        for (int id : space_.valid(pos)) {
          sum += row[id];
          if (draw < sum) {
            choice = id;
            break;
          }
        }
        out.actions[size_t(i)].push_back(choice);
        out.logp[size_t(i)] += std::log(row[choice]);
        chosen[size_t(i)] = choice;
      }
      input = torch::tensor(chosen, torch::kLong);
    }
    return out;
  }

  torch::Tensor actionTensor(const std::vector<Actions> &batch) const {
    std::vector<int64_t> flat;
    for (const Actions &a : batch)
      flat.insert(flat.end(), a.begin(), a.end());
    return torch::tensor(flat).view({int64_t(batch.size()), space_.length()});
  }

  /// PPO's clipped surrogate, kept finite when the policy has moved far
  /// within one update. The pipeline proposes a batch before the last one
  /// is learnt, so a sample can be one the current policy made nearly
  /// impossible; a sharp policy can then raise its log-probability by more
  /// than 88 in one epoch (124 at update 533 of seed 0's main job), where
  /// exp overflows a float, and inf times a zero advantage, or a zero
  /// gradient times inf in exp's backward, is NaN. A log-ratio past
  /// kLogRatioCap is held there (PPO's clip already gives it no gradient
  /// with a positive advantage), and a negative advantage's objective is
  /// bounded by kDualClip times it (dual-clip PPO, Ye et al. 2020), so one
  /// stale sample cannot throw the weights.
  torch::Tensor surrogate(const torch::Tensor &logp, const torch::Tensor &old,
                          const torch::Tensor &advantages) const {
    constexpr double kLogRatioCap = 20, kDualClip = 3;
    torch::Tensor ratio =
        torch::exp(torch::clamp(logp - old, -kLogRatioCap, kLogRatioCap));
    torch::Tensor clipped =
        torch::min(ratio * advantages,
                   torch::clamp(ratio, 1 - o_.clip, 1 + o_.clip) * advantages);
    return torch::where(advantages < 0,
                        torch::max(clipped, kDualClip * advantages), clipped);
  }

  /// Whether the loss and every gradient are finite. A step that is not
  /// would make every weight NaN for good (the search then proposes one
  /// rule forever), so it is skipped and counted instead.
  bool finiteStep(const torch::Tensor &loss) const {
    if (!std::isfinite(loss.item<double>()))
      return false;
    for (const torch::Tensor &p : policy_->parameters())
      if (p.grad().defined() && !torch::isfinite(p.grad()).all().item<bool>())
        return false;
    return true;
  }

  /// Teacher-forced log-probabilities of the taken actions and the entropy
  /// of each masked softmax, both [batch, positions]. The inputs are known
  /// up front, so the embedding, the input projections and the head run
  /// once over every position; only the recurrence steps.
  std::pair<torch::Tensor, torch::Tensor> logProbs(const torch::Tensor &a) {
    int64_t n = a.size(0), length = space_.length();
    torch::Tensor start =
        torch::full({n, 1}, int64_t(space_.vocabulary().size()), torch::kLong);
    torch::Tensor x = policy_->embed->forward(
        torch::cat({start, a.slice(1, 0, length - 1)}, 1)); // [n, L, E]
    for (torch::nn::LSTMCell &cell : policy_->cells)
      x = unroll(*cell, x);
    torch::Tensor logp = torch::log_softmax(
        policy_->head->forward(x) + allMasks_, 2); // [n, L, V]
    torch::Tensor p = logp.exp();
    // Masked entries have p = 0 and logp = -inf; their term is 0.
    torch::Tensor entropy = -(p * logp.masked_fill(p == 0, 0)).sum(2);
    return {logp.gather(2, a.unsqueeze(2)).squeeze(2), entropy};
  }

  /// One LSTM layer over [n, L, in]: the cell's own weights and gate order
  /// (input, forget, cell, output).
  static torch::Tensor unroll(torch::nn::LSTMCellImpl &cell,
                              const torch::Tensor &x) {
    torch::Tensor in = torch::linear(x, cell.weight_ih, cell.bias_ih);
    int64_t n = x.size(0), hidden = cell.weight_hh.size(1);
    torch::Tensor h = torch::zeros({n, hidden}), c = torch::zeros({n, hidden});
    std::vector<torch::Tensor> out;
    for (int64_t t = 0; t < x.size(1); ++t) {
      std::vector<torch::Tensor> g =
          (in.select(1, t) + torch::linear(h, cell.weight_hh, cell.bias_hh))
              .chunk(4, 1);
      c = torch::sigmoid(g[1]) * c + torch::sigmoid(g[0]) * torch::tanh(g[2]);
      h = torch::sigmoid(g[3]) * torch::tanh(c);
      out.push_back(h);
    }
    return torch::stack(out, 1);
  }

  /// A NaN reward (a copy that teaches nothing) gets no advantage and stays
  /// out of the baseline; its sample still counts in the entropy bonus, so
  /// a batch of copies alone spreads the policy instead of leaving it be.
  /// With every reward finite the arithmetic is the one runs stored before
  /// NaN rewards used, so they replay alike.
  torch::Tensor advantagesOf(const std::vector<double> &rewards) {
    std::vector<int64_t> taught = taughtIndices(rewards);
    std::vector<double> a(rewards.size(), 0.0);
    if (taught.empty())
      return torch::tensor(a, torch::kFloat);
    double mean = 0;
    for (int64_t k : taught)
      mean += rewards[size_t(k)] / double(taught.size());
    if (!hasBaseline_)
      baseline_ = mean, hasBaseline_ = true;
    for (int64_t k : taught)
      a[size_t(k)] = rewards[size_t(k)] - baseline_;
    baseline_ = o_.baselineDecay * baseline_ + (1 - o_.baselineDecay) * mean;
    torch::Tensor t = torch::tensor(a, torch::kFloat);
    if (!o_.normalizeAdvantages || taught.size() < 2)
      return t;
    torch::Tensor sd = t.index_select(0, torch::tensor(taught)).std();
    // Equal rewards have nothing to scale: dividing would blow them up.
    return sd.item<double>() > 1e-6 ? t / (sd + 1e-8) : t;
  }

  StrategyOptions o_;
  const Space &space_;
  Rng rng_;
  Policy policy_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::vector<torch::Tensor> masks_;
  torch::Tensor allMasks_;
  double weight_; // the entropy bonus's weight now
  double baseline_ = 0, entropy_ = 0;
  // The mean log-probability ratio of the sampling policy to the learning
  // one over the last batch learnt, at the update's start: 0 without a
  // pipeline, and how far the policy had moved since it sampled with one.
  double staleness_ = 0;
  std::deque<Sampled> sampled_; // proposed, not yet learnt
  bool hasBaseline_ = false;
  int updates_ = 0;
  int skipped_ = 0; // updates whose step was non-finite (finiteStep)
};

} // namespace

std::unique_ptr<Strategy> makeController(const StrategyOptions &options,
                                         const Space &space) {
  return std::make_unique<Controller>(options, space);
}

} // namespace nos::search
