-- POST search: two filters over 100,000 contacts, sorted, 100 per page.
local token = os.getenv("SANDBOX_TOKEN")
local stages = { "lead", "marketingqualifiedlead", "salesqualifiedlead", "customer" }
math.randomseed(11)
request = function()
  local body = string.format(
    '{"filterGroups":[{"filters":[{"propertyName":"lifecyclestage","operator":"EQ","value":"%s"},' ..
    '{"propertyName":"numemployees","operator":"GTE","value":"%d"}]}],' ..
    '"sorts":[{"propertyName":"createdate","direction":"DESCENDING"}],"properties":["email","lifecyclestage"],"limit":100}',
    stages[math.random(1, #stages)], math.random(0, 4900))
  return wrk.format("POST", "/crm/v3/objects/contacts/search",
                    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end
