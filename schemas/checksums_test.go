package schemas

import "testing"

// An applied migration never changes: trackwatch refuses to start on a database whose
// recorded checksum differs (ErrChecksumMismatch). The checksums of the migrations
// released so far, including the SELECTs they render from sql/summaries.sql, are pinned
// here; a new migration adds its line.
var releasedChecksums = map[string]string{
	"0001_events.sql":                 "ed5c87ed4c40b45c8705ba5a81bcda440bf79edb6b611e2f62dc1656636a908d",
	"0002_dead_letter_replays.sql":    "80878db35275c83c512aae0c7ede58eff71f692c475c48368a9158b09fbfaa42",
	"0003_alerts.sql":                 "a4b848d7e1270a95efc113ffea7838c504188f95bb166f98a955d4c4c2b33f0b",
	"0004_alert_store.sql":            "5a78cbc5c368131775f7fe802780fcf480a8a5ff6f6c73738901754981fcc9a4",
	"0005_carrier_status.sql":         "f2eb2034bcefa026c87b9adf75ec0f5da05d27cb94750b95f4566f6cd7bba418",
	"0006_reason_languages.sql":       "d8713e9f74183705687f335a3072cd5f30c885da834f3f8a1eb3cfcf49b7430e",
	"0007_alert_actions.sql":          "f3bfc9fd268974a7c66182cb24a47796fb7b1576a7aab993a26b461667849510",
	"0008_backfill.sql":               "35487f1144201be15745c432d1f3a16eea14f3af5f368e00bf929862305e3fd1",
	"0009_detect_ticks.sql":           "6cb9a49274c5278a648571cebec724ee09fe5ef4ff935a7b08edfcb7e0eade7e",
	"0010_claims_in_commit_order.sql": "be2fd52e5403dfe98d3b0bc62be270c501bc3693406179df7a8936e9efc030a3",
	"0011_carrier_months.sql":         "e8e731ad98cd350743eab146ebcb147ce6509594512183a8a35ce920263e9dec",
	"0012_alert_content_hash.sql":     "840052d938f8ed955fa5978fe1ab4b443d532062964b5a5854f9ae342fd6ddf9",
	"0013_order_months.sql":           "a11dd5829bdd9410a3d840864784759b329b6521d6d0d408d9b04d21718e0679",
	"0014_detect_changes.sql":         "5598b4bba714a022b32b8aa134266d3a613aadd8f691161e4187acb8c092170a",
	"0015_number_checks.sql":          "07215aa43a6e3a6b49478f43abd58ffb21e85319e833dd56ce3c70d7b94727c0",
	"0016_order_journey.sql":          "610e2fc60cd74bfc069bb2caf4e4f552e8d8082ce027ea2b1417f9a632d8554e",
	"0017_provider_status.sql":        "869e7ea5a17d7de3df06eed009296c24412f2bf4aacaab9de9e2bd803fdeda55",
	"0018_backtest_comparisons.sql":   "f53edcb9c036a306b2ab52b0b7b614ab31cac22196e4b3b14c5703972e038f1a",
	"0019_comparison_shares.sql":      "48d230ef36b1495409a306b5e62614df5c4192cbd69eee9fb1acd2e728f45f36",
	"0020_alert_history_sellers.sql":  "61ef28ace6ece59b41aca8655947276ef3cb9d88901ee5260314f6731abc268c",
}

func TestReleasedMigrationsKeepTheirChecksums(t *testing.T) {
	for _, opts := range []DDLOptions{{Database: "trackwatch"}, {Database: "other", Cluster: "c"}} {
		ms, err := Migrations(opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			want, ok := releasedChecksums[m.Name]
			if !ok {
				t.Errorf("%s: not pinned in releasedChecksums (add its checksum %s once released)", m.Name, m.Checksum)
				continue
			}
			if m.Checksum != want {
				t.Errorf("%s (%+v): checksum %s, released as %s: add a migration instead of changing this one", m.Name, opts, m.Checksum, want)
			}
		}
	}
}
