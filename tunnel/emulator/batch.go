package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// batchBody is the body of POST /zones/{z}/dns_records/batch.
type batchBody struct {
	Deletes []map[string]json.RawMessage `json:"deletes"`
	Patches []map[string]json.RawMessage `json:"patches"`
	Puts    []map[string]json.RawMessage `json:"puts"`
	Posts   []map[string]json.RawMessage `json:"posts"`
}

// batchResult is the result of a batch: the records each list touched.
type batchResult struct {
	Deletes []recordJSON `json:"deletes"`
	Patches []recordJSON `json:"patches"`
	Puts    []recordJSON `json:"puts"`
	Posts   []recordJSON `json:"posts"`
}

// batchRecords handles POST /zones/{z}/dns_records/batch. It runs every
// delete, then every patch, then every put, then every post, each list in
// the order sent. The first failure undoes all earlier operations and is
// returned as the response, so a batch applies whole or not at all.
func (e *Emulator) batchRecords(req *request, zoneID string) response {
	z, errResp := e.recordZone(req, zoneID, true)
	if errResp != nil {
		return *errResp
	}
	var body batchBody
	if resp, bad := decodeStrict(req.body, &body); bad {
		return resp
	}

	limit := plans[z.Plan].batchOps
	if n := len(body.Deletes) + len(body.Patches) + len(body.Puts) + len(body.Posts); n > limit {
		return fail(http.StatusBadRequest, codeBatchTooLarge,
			fmt.Sprintf("batch has %d operations, more than the maximum of %d for a zone on the %s plan: split it into several batches", n, limit, z.Plan))
	}

	savedRecords, savedID := cloneRecordStates(z.records), e.nextID
	result, errResp := e.runBatch(z, body)
	if errResp != nil {
		z.records, e.nextID = savedRecords, savedID
		return *errResp
	}
	return ok(result)
}

// runBatch applies the operations in batch order and stops at the first
// failure. Callers hold e.mu and undo the changes on failure.
func (e *Emulator) runBatch(z *zoneState, body batchBody) (batchResult, *response) {
	result := batchResult{Deletes: []recordJSON{}, Patches: []recordJSON{}, Puts: []recordJSON{}, Posts: []recordJSON{}}

	for _, op := range body.Deletes {
		var id string
		if err := json.Unmarshal(op["id"], &id); err != nil || id == "" {
			resp := dnsValidation("every delete needs the id of a record")
			return result, &resp
		}
		removed, errResp := e.removeRecord(z, id)
		if errResp != nil {
			return result, errResp
		}
		result.Deletes = append(result.Deletes, z.recordJSON(removed))
	}

	for _, change := range []struct {
		ops       []map[string]json.RawMessage
		overwrite bool
		out       *[]recordJSON
	}{{body.Patches, false, &result.Patches}, {body.Puts, true, &result.Puts}} {
		for _, op := range change.ops {
			in, errResp := recordInputFromMap(op)
			if errResp != nil {
				return result, errResp
			}
			if in.ID == nil || *in.ID == "" {
				resp := dnsValidation("every patch and put needs the id of a record")
				return result, &resp
			}
			r, errResp := e.updateRecord(z, *in.ID, in, change.overwrite)
			if errResp != nil {
				return result, errResp
			}
			*change.out = append(*change.out, z.recordJSON(r))
		}
	}

	for _, op := range body.Posts {
		in, errResp := recordInputFromMap(op)
		if errResp != nil {
			return result, errResp
		}
		r, errResp := e.postRecord(z, in)
		if errResp != nil {
			return result, errResp
		}
		result.Posts = append(result.Posts, z.recordJSON(r))
	}
	return result, nil
}

// cloneRecordStates copies records deeply, so a batch can be undone.
func cloneRecordStates(records []*recordState) []*recordState {
	out := make([]*recordState, len(records))
	for i, r := range records {
		c := *r
		c.Tags = append([]string(nil), r.Tags...)
		out[i] = &c
	}
	return out
}
