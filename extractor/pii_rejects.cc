#include "extractor/pii_rejects.h"

#include "common/core/redact.h"

namespace sluice {

bool SourceCarriesPii(const Plan& plan, const std::string& source) {
  if (!plan.pii.active()) return false;
  for (const Mapping& m : plan.mappings) {
    if (m.source != source) continue;
    const Entity* e = plan.model.Find(m.entity);
    if (e == nullptr) continue;
    for (const FieldMapping& fm : m.fields) {
      const ModelField* f = e->Find(fm.target);
      if (f != nullptr && f->pii) return true;
    }
  }
  return false;
}

void WithholdRawRows(const Plan& plan, std::vector<v1::Fate>* rejects) {
  for (v1::Fate& fate : *rejects) {
    // A row of the wrong shape has no trustworthy key: the text where its
    // key should be may be another column's (a name), so it is keyed by
    // its line. Other rejections were cut right, and the key column never
    // fills a pii field (plan_pii.cc).
    if (fate.rule() == "malformed_row" && fate.line() > 0) {
      fate.set_key("line:" + std::to_string(fate.line()));
    }
    if (fate.value().empty()) continue;
    RedactWordsOf(fate.value(), fate.mutable_reason());
    RedactWordsOf(fate.value(), fate.mutable_suggestion());
    fate.set_value("[withheld: " + std::to_string(fate.value().size()) + " bytes; pii mode " +
                   PiiModeName(plan.pii.mode) + "]");
  }
}

}  // namespace sluice
