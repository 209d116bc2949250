# Pairwise scoring of a run's dedup against a truth file, shared by
# bench/consolidation_scale and bench/dedup_hard. Source it, then:
#
#   pairwise_counts TRUTH.csv AUDIT.db ENTITY
#
# TRUTH.csv: `system,key,entity` with a header, one line per source record.
# A record's cluster is its survivor when it was merged, else itself. Prints
# "predicted correct true review": the pairs the run put together, those of
# them that are true, the true pairs, and the records held for review.
pairwise_counts() {
  local truth=$1 audit=$2 entity=$3
  sqlite3 -separator ' ' :memory: <<SQL
CREATE TABLE truth(system TEXT, key TEXT, entity TEXT);
.mode csv
.import --skip 1 $truth truth
ATTACH '$audit' AS a;
CREATE TABLE assign AS
  SELECT t.entity AS entity,
         COALESCE(f.survivor_source || ':' || f.survivor_key, t.system || ':' || t.key) AS cluster
  FROM truth t LEFT JOIN (SELECT source, key, survivor_source, survivor_key FROM a.fates
                          WHERE kind = 'merged' AND entity = '$entity') f
    ON f.source = t.system AND f.key = t.key;
.mode list
.separator ' '
SELECT (SELECT COALESCE(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) n FROM assign GROUP BY cluster)),
       (SELECT COALESCE(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) n FROM assign GROUP BY cluster, entity)),
       (SELECT COALESCE(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) n FROM assign GROUP BY entity)),
       (SELECT count(*) FROM a.fates WHERE kind = 'review' AND entity = '$entity');
SQL
}

# pairwise_figures PREDICTED CORRECT TRUE REVIEW RECORDS: prints
# "precision recall f1 review_share" (4, 4, 4 and 5 decimals).
pairwise_figures() {
  local predicted=$1 correct=$2 truepairs=$3 review=$4 rows=$5
  local p r
  p=$(echo "scale=6; if ($predicted == 0) 1 else $correct / $predicted" | bc)
  r=$(echo "scale=6; if ($truepairs == 0) 1 else $correct / $truepairs" | bc)
  printf "%.4f %.4f %.4f %.5f\n" "$p" "$r" \
    "$(echo "scale=6; if ($p + $r == 0) 0 else 2 * $p * $r / ($p + $r)" | bc)" \
    "$(echo "scale=6; $review / $rows" | bc)"
}
