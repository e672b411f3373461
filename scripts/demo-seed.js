// The demo account's contacts before Tandem is installed: a few hundred people from a trade fair,
// a webinar and the website, most of them not ready for sales, a handful ready.
//   node scripts/demo-seed.js COUNT > seed.json
"use strict";
const count = Number(process.argv[2] || 300);
const first = ["Noah", "Emma", "Liam", "Mia", "Lucas", "Sofia", "Elias", "Lena", "Finn", "Clara", "Jonas", "Ida", "Paul", "Marie", "Felix", "Hanna", "Leon", "Nora", "Max", "Lea"];
const last = ["Schmidt", "Martin", "de Vries", "Smith", "Dubois", "Jansen", "Brown", "Moreau", "Bakker", "Wilson", "Laurent", "Visser", "Taylor", "Richter", "Lambert"];
const companies = [["Contoso Logistics", "LOGISTICS_AND_SUPPLY_CHAIN", 1200], ["Fabrikam Retail", "RETAIL", 640], ["Tailspin Software", "COMPUTER_SOFTWARE", 310],
  ["Woodgrove Bank", "FINANCIAL_SERVICES", 4200], ["Litware Studio", "DESIGN", 12], ["Proseware", "COMPUTER_SOFTWARE", 85], ["Adatum Foods", "FOOD_PRODUCTION", 900],
  ["Bakery Jansen", "FOOD_PRODUCTION", 6], ["Northwind Traders", "RETAIL", 2300], ["Lucerne Publishing", "PUBLISHING", 150]];
const titles = ["Marketing Manager", "Data Analyst", "Head of BI", "Student", "Office Manager", "Director of Operations", "Software Engineer", "VP Finance", "Intern", "Owner"];
const countries = ["Germany", "France", "Netherlands", "United Kingdom", "United States", "Brazil", "India"];
const day = 86400000, now = Date.now();
const contacts = [];
for (let i = 0; i < count; i++) {
  const [company, industry, employees] = companies[i % companies.length];
  const f = first[i % first.length], l = last[(i * 7) % last.length];
  const p = {
    email: `${f}.${l}.${i}`.toLowerCase().replace(/ /g, "") + "@" + company.toLowerCase().replace(/ /g, "-") + ".example",
    firstname: f, lastname: l, company, industry, numberofemployees: String(employees),
    jobtitle: titles[(i * 3) % titles.length], country: countries[(i * 5) % countries.length],
    hubspot_owner_id: ["1001", "1002", "1003"][i % 3],
    hs_analytics_num_page_views: String((i * 13) % 9),
  };
  // Where marketing collected them: the fair's badge scanner, the webinar, the website (the
  // campaigns file of the demo attributes them by this).
  if (i % 3 === 0) Object.assign(p, { lead_campaign: "data-summit-2026", recent_conversion_event_name: "Data Summit 2026 badge scan" });
  else if (i % 3 === 1) Object.assign(p, { lead_campaign: "warehouse-webinar", recent_conversion_event_name: "Webinar: the warehouse in 30 minutes" });
  // One in fifty came to a webinar and looked at pricing this week, and fits: ready for sales.
  if (i % 50 === 7) {
    Object.assign(p, { jobtitle: "Head of Data", numberofemployees: "850", industry: "RETAIL", country: "Germany",
      recent_conversion_event_name: "Demo request", recent_conversion_date: String(now - 12 * day),
      last_pricing_page_visit: String(now - day) });
  }
  contacts.push({ properties: p });
}
process.stdout.write(JSON.stringify({ contacts }));
