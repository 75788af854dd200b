package openaitest

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// modelCreated is the fixed "created" time of every listed model.
const modelCreated = 1700000000

func (c *call) listModels() {
	if c.modelID != "" {
		if c.h.modelSet != nil && !c.h.modelSet[c.modelID] {
			c.model = c.modelID
			c.notFound()
			return
		}
		c.writeOK(modelObject{ID: c.modelID, Object: "model", Created: modelCreated, OwnedBy: "openaitest"})
		return
	}
	list := struct {
		Object string        `json:"object"`
		Data   []modelObject `json:"data"`
	}{Object: "list", Data: make([]modelObject, len(c.h.models))}
	for i, m := range c.h.models {
		list.Data[i] = modelObject{ID: m, Object: "model", Created: modelCreated, OwnedBy: "openaitest"}
	}
	c.writeOK(&list)
}
