-- The carrier status model (package carrier): each carrier event's sub-status (what
-- exactly happened, from the carrier's own words), whether the producer gave the status
-- itself, and whether the event is a physical scan: the only evidence that a parcel was
-- in a carrier's hands. Events stored before this migration get the least specific
-- sub-status of their status until `trackwatch phrases renormalise` derives it from
-- their words.
ALTER TABLE {{.DB}}.tracking_events{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS sub_status LowCardinality(String) DEFAULT multiIf(
        status = 'info_received', 'info_received/pre_advice', status = 'picked_up', 'picked_up/accepted',
        status = 'in_transit', 'in_transit/in_transit', status = 'out_for_delivery', 'out_for_delivery/on_route',
        status = 'delivered', 'delivered/delivered', status = 'failed_attempt', 'failed_attempt/attempted',
        status = 'exception', 'exception/other', status = 'returned', 'returned/returning',
        status = 'cancelled', 'cancelled/label_voided', 'unknown/unknown')
        COMMENT 'status/detail, see package carrier' AFTER status,
    ADD COLUMN IF NOT EXISTS status_given UInt8 DEFAULT 0 COMMENT '1: the producer sent status; 0: derived from raw_status' AFTER sub_status,
    ADD COLUMN IF NOT EXISTS physical UInt8 ALIAS sub_status NOT IN ('info_received/pre_advice', 'cancelled/label_voided', 'unknown/unknown')
        COMMENT 'a physical scan: the parcel was in a carrier''s hands';
