// Package alert is the risk stage: it accumulates the signals of detections
// per entity and turns them into alerts, one per entity per incident, updated
// as evidence grows.
package alert
