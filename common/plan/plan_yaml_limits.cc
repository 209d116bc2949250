// Loading YAML within the limits of common/core/limits.h (docs/limits.md).
//
// yaml-cpp builds a graph in which an alias shares the node it names: a
// "billion laughs" document is small in memory but every walk over it (the
// plan readers, Clone, Dump) visits each alias's subtree again, and an alias
// inside the node it names (`x: &a [*a]`) makes a cycle that every walk
// follows until the stack overflows. So the document is first read as a
// stream of events, which costs no nodes, counting what a walk would visit;
// only a document within the limits is loaded.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "common/core/limits.h"
#include "common/core/utf8.h"
#include "common/plan/plan_yaml.h"

namespace sluice::plan_yaml {
namespace {

std::string At(const YAML::Mark& mark) {
  return " at line " + std::to_string(mark.line + 1) + ", column " +
         std::to_string(mark.column + 1);
}

// Thrown by the counter to stop the parser at the first limit crossed.
struct Refused {
  std::string message;
};

// Counts the nodes a walk of the document visits, aliases expanded, and its
// depth; throws Refused past a limit or at an alias inside its own node.
class Counter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_name_ = name; }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { Leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    Leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) return;  // yaml-cpp reports an unknown anchor itself
    if (!it->second.closed) {
      throw Refused{"alias *" + it->second.name + At(mark) +
                    " refers to a node that contains it (a cycle)"};
    }
    Add(mark, it->second.size);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Anchor {
    std::string name;
    uint64_t size = 0;  // nodes a walk visits through it
    bool closed = false;
  };
  struct OpenNode {
    YAML::anchor_t anchor;
    uint64_t first;  // nodes_ before it
  };

  void Add(const YAML::Mark& mark, uint64_t n) {
    nodes_ += n;
    if (nodes_ > limits::kMaxYamlNodes) {
      throw Refused{"more than " + std::to_string(limits::kMaxYamlNodes) +
                    " yaml nodes (an alias counts as a copy of what it names)" + At(mark)};
    }
  }
  void Name(YAML::anchor_t anchor, uint64_t size, bool closed) {
    if (anchor == YAML::NullAnchor) return;
    anchors_[anchor] = {pending_name_, size, closed};
    pending_name_.clear();
  }
  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    Add(mark, 1);
    Name(anchor, 1, /*closed=*/true);
  }
  void Open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (open_.size() >= static_cast<size_t>(limits::kMaxYamlDepth)) {
      throw Refused{"yaml nested deeper than " + std::to_string(limits::kMaxYamlDepth) + " levels" +
                    At(mark)};
    }
    open_.push_back({anchor, nodes_});
    Add(mark, 1);
    Name(anchor, 0, /*closed=*/false);
  }
  void Close() {
    if (open_.empty()) return;
    const OpenNode node = open_.back();
    open_.pop_back();
    if (node.anchor != YAML::NullAnchor) {
      Anchor& a = anchors_[node.anchor];
      a.size = nodes_ - node.first;
      a.closed = true;
    }
  }

  uint64_t nodes_ = 0;
  std::vector<OpenNode> open_;
  std::map<YAML::anchor_t, Anchor> anchors_;
  std::string pending_name_;
};

}  // namespace

bool LoadYaml(const std::string& text, const std::string& path, YAML::Node* root,
              std::vector<PlanIssue>* issues) {
  if (text.size() > limits::kMaxPlanBytes) {
    AddIssue(issues, path,
             "too large: " + std::to_string(text.size()) + " bytes (at most " +
                 std::to_string(limits::kMaxPlanBytes) + ")");
    return false;
  }
  // yaml-cpp would read invalid bytes as U+FFFD, but the text itself is
  // shipped to the workers in a protobuf string field.
  if (size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
    const size_t line = 1 + std::count(text.begin(), text.begin() + bad, '\n');
    AddIssue(
        issues, path,
        "not valid UTF-8: byte " + std::to_string(bad) + " (line " + std::to_string(line) + ")");
    return false;
  }
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    Counter counter;
    parser.HandleNextDocument(counter);  // YAML::Load reads the first document only
    *root = YAML::Load(text);
    return true;
  } catch (const Refused& r) {
    AddIssue(issues, path, r.message);
  } catch (const YAML::Exception& e) {
    issues->push_back(YamlErrorIssue(e, path));
  }
  return false;
}

}  // namespace sluice::plan_yaml
