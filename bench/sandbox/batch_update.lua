-- POST batch/update with 100 random contacts per request (HubSpot's maximum).
local token = os.getenv("SANDBOX_TOKEN")
local statuses = { "NEW", "OPEN", "IN_PROGRESS", "CONNECTED" }
math.randomseed(7)
request = function()
  local inputs = {}
  local used = {}
  while #inputs < 100 do
    local id = 1001 + math.random(0, 99999)
    if not used[id] then
      used[id] = true
      inputs[#inputs + 1] = string.format('{"id":"%d","properties":{"hs_lead_status":"%s"}}', id,
                                          statuses[math.random(1, #statuses)])
    end
  end
  local body = '{"inputs":[' .. table.concat(inputs, ",") .. ']}'
  return wrk.format("POST", "/crm/v3/objects/contacts/batch/update",
                    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end
