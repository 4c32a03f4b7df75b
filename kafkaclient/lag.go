package kafkaclient

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// GroupLag returns how many messages of topics the consumer group has not committed:
// the sum over partitions of end offset minus committed offset. Ingest commits only after
// inserting, so a lag of 0 means everything produced so far is stored.
func GroupLag(ctx context.Context, kc Config, brokers []string, group string, topics ...string) (int64, error) {
	tr, err := kc.Transport()
	if err != nil {
		return 0, err
	}
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: tr}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return 0, fmt.Errorf("kafka metadata: %w", err)
	}
	var lag int64
	for _, t := range meta.Topics {
		if t.Error != nil {
			return 0, fmt.Errorf("kafka metadata for %s: %w", t.Name, t.Error)
		}
		var reqs []kafka.OffsetRequest
		var ids []int
		for _, p := range t.Partitions {
			reqs = append(reqs, kafka.LastOffsetOf(p.ID))
			ids = append(ids, p.ID)
		}
		ends, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{t.Name: reqs}})
		if err != nil {
			return 0, fmt.Errorf("list offsets of %s: %w", t.Name, err)
		}
		got, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{t.Name: ids}})
		if err != nil {
			return 0, fmt.Errorf("fetch committed offsets of %s for %s: %w", t.Name, group, err)
		}
		committed := map[int]int64{}
		for _, po := range got.Topics[t.Name] {
			committed[po.Partition] = po.CommittedOffset
		}
		for _, po := range ends.Topics[t.Name] {
			c := committed[po.Partition]
			if c < 0 { // nothing committed yet
				c = 0
			}
			if po.LastOffset > c {
				lag += po.LastOffset - c
			}
		}
	}
	return lag, nil
}
