-- GET one contact by id (ids 1001..101000 after the seed), spread over the whole range.
local token = os.getenv("SANDBOX_TOKEN")
math.randomseed(42)
request = function()
  local id = 1001 + math.random(0, 99999)
  return wrk.format("GET", "/crm/v3/objects/contacts/" .. id .. "?properties=email,lifecyclestage",
                    { ["Authorization"] = "Bearer " .. token })
end
