package workload

// sampleTopic is one subject of the shipped sample dataset. The text is our
// own, written for this project. Answers answer the query directly; Details
// elaborate on the subject. A document holding any sentence of a topic is
// relevant to that topic's query.
type sampleTopic struct {
	Heading string
	Query   string // "" for topics that only appear as distractors
	Answers []string
	Details []string
}

var sampleTopics = []sampleTopic{{
	Heading: "Collision and comprehensive deductibles",
	Query:   "How does my deductible work when I file a collision claim on my car?",
	Answers: []string{
		"Your collision deductible is the amount you pay toward a covered repair before the policy pays the rest; with a $500 deductible and a $3,200 repair bill, the insurer pays $2,700.",
		"The deductible applies once per claim, not once per year, so two separate accidents in the same policy term mean two deductibles.",
		"If the other driver is found at fault, their liability insurer should pay for your repairs, and your own insurer may recover your deductible from them through subrogation.",
	},
	Details: []string{
		"When the repair estimate is below your deductible, filing a claim usually makes no sense, because the policy would pay nothing.",
		"Choosing a higher deductible, such as $1,000 instead of $250, lowers the collision premium, often by 15 to 30 percent.",
		"Comprehensive coverage carries its own deductible, which can differ from the collision deductible and applies to theft, hail, fire and animal strikes.",
		"Some policies waive the deductible for windshield repairs, so a small chip can be fixed at no cost to you.",
		"If the car is declared a total loss, the deductible is subtracted from the actual cash value the insurer pays.",
		"The body shop is normally paid the repair cost minus the deductible, and you settle the deductible directly with the shop when you pick up the car.",
		"A lender or lease company may require a maximum deductible, commonly $1,000, as a condition of the loan.",
		"Recovered deductibles are refunded in full when the insurer collects the whole claim from the at-fault party, or in proportion when it only collects part of it.",
		"The deductible does not apply to liability claims that other drivers make against you.",
		"Before choosing a deductible, make sure you could pay that amount from savings on short notice after an accident.",
		"Vanishing deductible programs reduce the amount by a set sum, such as $100, for each claim-free year.",
	},
}, {
	Heading: "Premium changes at renewal",
	Query:   "Why did my homeowners insurance premium go up at renewal even though I made no claims?",
	Answers: []string{
		"Premiums can rise at renewal without any claim because the insurer adjusts rates for a whole region, reflecting higher losses from storms, wildfires and water damage.",
		"Rebuilding costs have also climbed, so the dwelling coverage limit is often raised automatically to keep pace with construction prices, and a higher limit means a higher premium.",
		"Changes in your own profile, such as a lower credit-based insurance score where that is allowed, or the loss of a discount, can add to the increase.",
	},
	Details: []string{
		"Your renewal notice must list the new premium and, in many states, the main reasons for any increase above a set percentage.",
		"Ask your agent whether an inflation guard endorsement raised your coverage limit and whether that limit still matches a realistic rebuilding estimate.",
		"Raising the deductible from $1,000 to $2,500 is one of the quickest ways to offset a rate increase.",
		"Bundling home and auto insurance with the same company typically earns a multi-policy discount of 10 to 20 percent.",
		"Protective devices such as monitored alarms, water leak sensors and impact-resistant roofing may qualify for credits that were not applied automatically.",
		"Claims filed by a previous owner of the home, recorded in a shared loss history database, can also affect the price quoted to you.",
		"Regulators in most states review filed rate changes, but an approved filing can still mean double-digit increases in high-risk areas.",
		"Comparing quotes from two or three other carriers before the renewal date is reasonable when the increase is large.",
		"If you switch insurers, make sure the new policy starts before the old one ends so that the home is never uninsured, especially when a mortgage lender requires coverage.",
	},
}, {
	Heading: "Flood and water damage",
	Query:   "Does my homeowners policy cover flood damage from heavy rain?",
	Answers: []string{
		"Standard homeowners policies exclude flood, meaning surface water from heavy rain, overflowing rivers or storm surge that enters the home from outside.",
		"Flood coverage is bought separately, through the National Flood Insurance Program or a private flood insurer, and usually has a 30-day waiting period before it takes effect.",
		"Water damage that starts inside the home, such as a burst pipe or a leaking water heater, is generally covered, while water that rises from the ground is not.",
	},
	Details: []string{
		"Rain that enters through a roof opening created by wind is usually treated as wind damage and falls under the homeowners policy.",
		"Sewer and drain backup is a separate optional endorsement with its own limit, often between $5,000 and $25,000.",
		"A federal flood policy covers the building up to $250,000 and contents up to $100,000, and contents coverage must be purchased separately.",
		"Basement contents are limited under flood policies, so a finished basement with furniture and electronics may be largely unprotected.",
		"Homes outside high-risk flood zones still account for a large share of flood claims, and the premium there is often modest.",
		"After a flood, photograph the water line and the damaged items before removing them, and keep samples of carpet and drywall if the adjuster asks.",
		"Federal disaster assistance, when it is available, is usually a loan that must be repaid, not a substitute for flood insurance.",
		"Mortgage lenders require flood insurance for homes in designated special flood hazard areas when the loan is federally backed.",
		"Flood policies pay actual cash value for most contents, so depreciation reduces the payment for older belongings.",
	},
}, {
	Heading: "Reporting an auto accident claim",
	Query:   "How do I file a claim after a car accident, and how long does it take?",
	Answers: []string{
		"Report the accident to your insurer as soon as possible, by phone, app or website, and have the date, the location, the other driver's details and the police report number ready.",
		"An adjuster is usually assigned within one to three business days, inspects the damage or reviews your photos, and prepares a repair estimate.",
		"Simple claims with clear fault are often settled within two weeks, while claims with injuries, disputed liability or a total loss can take 30 to 60 days or longer.",
	},
	Details: []string{
		"At the scene, exchange names, insurance information and plate numbers, photograph all vehicles and the road, and collect the contact details of witnesses.",
		"Most states set deadlines for insurers to acknowledge a claim, often within 15 days, and to accept or deny it within a set period after receiving proof of loss.",
		"You may choose your own repair shop, although shops in the insurer's direct repair network can speed up payment and guarantee the work.",
		"If hidden damage is found once the car is taken apart, the shop files a supplement and the adjuster approves the additional cost.",
		"Keep receipts for towing, rental cars and medical visits, since they may be reimbursed under the applicable coverage.",
		"Avoid admitting fault at the scene; fault is determined later from the police report, the statements and the damage.",
		"If you disagree with the settlement offer, ask for the estimate in writing, provide a competing estimate, and escalate to a supervisor or the state insurance department if needed.",
		"Late reporting can put coverage at risk, since most policies require prompt notice of any accident.",
		"Claim status can normally be tracked online, including the adjuster's notes, the estimates and the payments issued.",
	},
}, {
	Heading: "Missed premiums and the grace period",
	Query:   "What happens if I miss a premium payment on my life insurance policy?",
	Answers: []string{
		"Life insurance policies include a grace period, usually 30 or 31 days, during which coverage stays in force even though the premium is unpaid.",
		"If the insured person dies during the grace period, the death benefit is paid minus the overdue premium.",
		"If the premium is still unpaid when the grace period ends, a term policy lapses and coverage stops, while a whole life policy may use its cash value to keep coverage going.",
	},
	Details: []string{
		"Many whole life policies have an automatic premium loan provision that borrows against the cash value to pay a missed premium.",
		"A lapsed policy can often be reinstated within three to five years by paying the back premiums with interest and, in many cases, providing new evidence of insurability.",
		"Reinstatement may restart the two-year contestability and suicide exclusion periods, depending on the contract and state law.",
		"Insurers must mail a lapse notice before terminating coverage, and some states require a copy to a secondary addressee that you designate.",
		"Setting up automatic bank withdrawals is the simplest way to avoid an accidental lapse.",
		"Universal life policies stay in force as long as the account value covers the monthly charges, so a skipped payment may not cause a lapse right away.",
		"Nonforfeiture options let a whole life owner take a reduced paid-up policy or extended term insurance instead of losing coverage entirely.",
		"If money is tight, ask the insurer about annual or quarterly billing, a lower face amount, or converting part of the coverage.",
		"Buying a new policy later is usually more expensive, because premiums are based on your age and health when you apply.",
	},
}, {
	Heading: "Pre-existing medical conditions when traveling",
	Query:   "Are pre-existing medical conditions covered by travel insurance?",
	Answers: []string{
		"Most travel medical and trip cancellation plans exclude pre-existing conditions, meaning illnesses or injuries that were diagnosed, treated or showed symptoms during a look-back period before purchase, often 60 to 180 days.",
		"Many plans offer a pre-existing condition waiver if you buy the policy within 10 to 21 days of your first trip deposit and insure the full non-refundable trip cost.",
		"To qualify for the waiver you usually must be medically able to travel on the day you buy the plan.",
	},
	Details: []string{
		"A condition that was stable during the look-back period, with no new treatment, test or change in medication, may be covered even without a waiver.",
		"Read how the plan defines stable, since a change in dosage prescribed by a doctor can count as a change in treatment.",
		"Emergency medical coverage pays for treatment abroad up to the plan limit, commonly $50,000 to $500,000, while medical evacuation is a separate benefit.",
		"Domestic health plans and government programs often provide little or no coverage outside the country, which is why travel medical coverage matters.",
		"Cancellation because of a family member's illness can also be affected by the pre-existing condition exclusion, even if that person is not traveling.",
		"When you file a claim, the insurer typically requests medical records covering the look-back period to check for a pre-existing condition.",
		"Annual multi-trip plans may apply the exclusion differently from single-trip plans, so check the certificate of coverage.",
		"Disclosing your conditions honestly when you buy the plan avoids a claim being denied later for misrepresentation.",
	},
}, {
	Heading: "Rental reimbursement",
	Query:   "Does my auto policy pay for a rental car while my car is being repaired?",
	Answers: []string{
		"Rental reimbursement is an optional coverage that pays for a rental car while your vehicle is repaired after a covered claim, up to a daily and a per-claim limit such as $40 a day and $1,200 per claim.",
		"Without that coverage your own policy will not pay for a rental, although the at-fault driver's liability insurer owes you a comparable vehicle for a reasonable repair period when that driver is responsible.",
		"Rental reimbursement usually ends when the repairs are completed or, for a total loss, a few days after the insurer offers a settlement.",
	},
	Details: []string{
		"The coverage costs only a few dollars a month and is often sold together with roadside assistance.",
		"Rental reimbursement applies only when the damage itself is covered, so a mechanical breakdown does not qualify.",
		"If you choose a larger or more expensive rental than your limit allows, you pay the difference.",
		"Many insurers arrange the rental with a partner agency that bills them directly, so you pay nothing at the counter within the limit.",
		"Your personal auto policy's liability and physical damage coverage usually extend to a car you rent in the United States, so the rental counter's damage waiver may be unnecessary.",
		"Delays caused by parts shortages can exhaust the per-claim limit, after which the remaining rental days are your expense.",
		"Keep the rental agreement and receipts, because a reimbursement claim needs the dates and the daily rate.",
	},
}, {
	Heading: "Term and whole life insurance",
	Query:   "What is the difference between term life and whole life insurance?",
	Answers: []string{
		"Term life insurance covers you for a fixed period, such as 10, 20 or 30 years, and pays a death benefit only if you die during that term; it builds no cash value and costs far less per dollar of coverage.",
		"Whole life insurance covers you for your entire life as long as premiums are paid, with level premiums and a guaranteed cash value that grows tax-deferred.",
		"A healthy 35-year-old might pay a few hundred dollars a year for $500,000 of 20-year term coverage, while the same amount of whole life can cost several thousand dollars a year.",
	},
	Details: []string{
		"Term policies often include a conversion privilege that lets you switch to permanent coverage without a medical exam before a stated age.",
		"The cash value of a whole life policy can be borrowed against, and unpaid loans reduce the death benefit.",
		"Participating whole life policies may pay dividends, which can buy paid-up additions, reduce premiums or be taken in cash, although dividends are not guaranteed.",
		"Term coverage suits temporary needs such as a mortgage or the years of raising children, while whole life suits lifelong needs such as estate planning or a dependent with special needs.",
		"Surrendering a whole life policy in its early years usually returns less than the premiums paid, because of surrender charges and front-loaded costs.",
		"Renewable term policies can be continued after the term ends, but the premium then rises sharply each year with your attained age.",
		"Universal life sits between the two, offering flexible premiums and a cash value that depends on credited interest rates.",
		"Many advisers suggest comparing the cost of term coverage plus separate investing with the guaranteed values in a whole life illustration.",
	},
}, {
	Heading: "Theft of personal property for renters",
	Query:   "What does renters insurance cover if my apartment is burglarized?",
	Answers: []string{
		"Renters insurance covers personal property stolen in a burglary, such as electronics, furniture, clothing and jewelry, up to the personal property limit and after the deductible.",
		"The landlord's insurance covers the building itself, including a broken door or window, but not your belongings.",
		"Theft of valuables like jewelry, watches and collectibles is usually capped by a special sublimit, often $1,500, unless the items are scheduled on the policy.",
	},
	Details: []string{
		"Replacement cost coverage pays what it costs to buy new items today, while actual cash value coverage deducts depreciation, so a five-year-old laptop may be worth a fraction of its price.",
		"File a police report right away; insurers generally require the report number for a theft claim.",
		"A home inventory with photos, serial numbers and receipts makes it much easier to prove what was taken and what it was worth.",
		"Personal property is often covered away from home too, for example a bicycle stolen from a rack or a laptop stolen from a car, usually up to a percentage of the limit.",
		"Loss of use coverage pays additional living expenses if the apartment becomes uninhabitable after a covered loss such as a fire.",
		"Personal liability coverage in the same policy protects you if a guest is injured in your apartment or you accidentally damage someone else's property.",
		"Cash is typically limited to a few hundred dollars, and the property of roommates who are not named on the policy is not covered.",
		"Renters policies are inexpensive, commonly $15 to $30 a month, and landlords increasingly require them in the lease.",
	},
}, {
	Heading: "Out-of-network specialists",
	Query:   "How much will my health plan pay for an out-of-network specialist?",
	Answers: []string{
		"HMO and EPO plans generally pay nothing for out-of-network care except emergencies, so you would pay the specialist's full bill.",
		"PPO and POS plans do cover out-of-network specialists, but at a lower rate, for example 60 percent of the allowed amount after a separate out-of-network deductible instead of 80 percent in network.",
		"The allowed amount is what the plan considers reasonable; an out-of-network provider can bill you for the difference between its charge and that amount, which is called balance billing.",
	},
	Details: []string{
		"Federal rules protect you from surprise balance bills for emergency care and for out-of-network clinicians at in-network hospitals, such as anesthesiologists.",
		"Out-of-network costs may not count toward your in-network out-of-pocket maximum, and some plans have no out-of-pocket cap for out-of-network care at all.",
		"Ask the plan for a network exception if no in-network specialist is available within a reasonable distance or waiting time; approved care is then paid at in-network rates.",
		"Some plans require a referral from your primary care physician, or prior authorization, before a specialist visit is covered.",
		"Request a good-faith estimate and the billing codes from the specialist, then ask the plan what it would allow for those codes.",
		"You may have to pay the specialist up front and submit the claim yourself with an itemized bill.",
		"The summary of benefits and coverage lists the deductibles, coinsurance and out-of-pocket limits for both in-network and out-of-network care.",
		"Negotiating a cash price with the specialist before the visit can sometimes cost less than the out-of-network share.",
	},
}, {
	Heading: "Cancelling a policy and premium refunds",
	Query:   "Can I cancel my insurance policy mid-term and get a refund of the premium?",
	Answers: []string{
		"You can cancel most auto, home and renters policies at any time, and the insurer refunds the unearned premium for the days remaining in the term.",
		"Refunds are calculated either pro rata, returning the exact unused share, or short rate, which keeps a cancellation penalty, often around 10 percent of the unearned premium.",
		"Policies paid monthly are usually cancelled without a refund beyond the current month, and any balance owed for days already covered is billed to you.",
	},
	Details: []string{
		"Send a written or signed cancellation request with the effective date, and get written confirmation of the cancellation from the insurer.",
		"Do not cancel an auto policy before the new one starts; a gap in coverage can raise future premiums and may violate state law while the car is registered.",
		"If your home has a mortgage, the lender must be notified, and it will require proof of replacement coverage.",
		"Some fees, such as policy fees and inspection fees, are fully earned and are not refunded.",
		"Most life and health policies include a free-look period, often 10 to 30 days, during which you can cancel for a full refund.",
		"When the insurer cancels the policy, the refund is always calculated pro rata.",
		"Refunds are usually issued within 30 days, by check or to the original payment method.",
	},
}, {
	Heading: "Uninsured and underinsured motorists",
	Query:   "What does uninsured motorist coverage pay for if the other driver has no insurance?",
	Answers: []string{
		"Uninsured motorist bodily injury coverage pays medical bills, lost wages and pain and suffering for you and your passengers when an at-fault driver has no insurance, up to your policy limits.",
		"Uninsured motorist property damage, available in some states, pays to repair your car, often with a small deductible such as $250.",
		"The same coverage usually applies to hit-and-run accidents, although some states require physical contact with the other vehicle or a prompt police report.",
	},
	Details: []string{
		"Underinsured motorist coverage fills the gap when the at-fault driver's liability limits are too low to pay for your damages.",
		"Many states require insurers to offer uninsured motorist coverage, and you must reject it in writing if you do not want it.",
		"Roughly one in eight drivers nationwide is uninsured, and the share is far higher in some states.",
		"Stacking, where it is allowed, combines the uninsured motorist limits of several vehicles on the policy for a single accident.",
		"Uninsured motorist benefits also protect you as a pedestrian or cyclist struck by an uninsured driver.",
		"Your insurer steps into the shoes of the uninsured driver, so disputes about fault or the amount of damages may go to arbitration.",
		"Collision coverage can also repair your car after an uninsured driver hits it, but its deductible is usually higher.",
	},
}, {
	Heading: "Pet insurance waiting periods",
	Answers: []string{
		"Pet insurance plans usually impose a waiting period after enrollment, commonly two to five days for accidents and 14 days for illnesses.",
		"Conditions that appear during the waiting period are treated as pre-existing and are excluded for the life of the policy by many carriers.",
	},
	Details: []string{
		"Orthopedic problems such as cruciate ligament tears often carry a longer waiting period of six months, which some insurers waive after a veterinary exam.",
		"Most plans reimburse 70, 80 or 90 percent of the veterinary bill after an annual deductible, and you choose the split when you enroll.",
		"Routine care such as vaccinations and dental cleanings is excluded from accident and illness plans unless you add a wellness rider.",
		"Premiums rise as the pet ages, and some insurers stop accepting new enrollments for older dogs and cats.",
		"You usually pay the veterinarian first and submit the invoice and medical records for reimbursement through the insurer's app.",
	},
}, {
	Heading: "Business interruption coverage",
	Answers: []string{
		"Business interruption insurance replaces lost net income and pays continuing expenses, such as payroll and rent, while a business is closed after direct physical damage from a covered peril.",
		"It is normally part of a commercial property or business owner's policy rather than a standalone product.",
	},
	Details: []string{
		"Coverage begins after a waiting period, often 72 hours, and lasts through the period of restoration needed to repair the premises.",
		"Extra expense coverage pays the added cost of operating from a temporary location to keep customers during repairs.",
		"Civil authority coverage can apply when a government order blocks access to the premises because of damage to nearby property.",
		"Claims are measured from financial records, so keep tax returns, profit and loss statements and monthly sales reports where they will survive a fire.",
		"Contingent business interruption extends coverage to losses caused by damage at a key supplier or customer.",
	},
}, {
	Heading: "Roof damage from wind and hail",
	Answers: []string{
		"Homeowners policies cover sudden roof damage from wind and hail, but not wear and tear, so an old roof that leaks because of age is not covered.",
		"Many policies in storm-prone states carry a separate wind and hail deductible set as a percentage of the dwelling limit, such as 2 percent of $300,000, or $6,000.",
	},
	Details: []string{
		"Some insurers pay only actual cash value for roofs older than 10 or 15 years, which can leave a large gap between the payment and the replacement cost.",
		"Cosmetic damage exclusions may deny claims for dents to metal roofing that do not let water in.",
		"Most policies require hail claims to be reported within one year of the storm.",
		"Cover openings with tarps to prevent further damage and keep the receipts, since reasonable temporary repairs are reimbursed.",
		"Be cautious with contractors who knock on doors after a storm and ask you to sign over your claim benefits.",
	},
}, {
	Heading: "Umbrella liability insurance",
	Answers: []string{
		"An umbrella policy adds liability coverage, usually in $1 million layers, above the limits of your home and auto policies.",
		"It pays only after the underlying policy limits are used up, and it requires you to keep minimum liability limits on those policies, such as $250,000 per person on auto coverage.",
	},
	Details: []string{
		"Umbrella coverage can also pay for claims the underlying policies exclude, such as libel, slander and false arrest, after a self-insured retention.",
		"A first million of umbrella coverage often costs a few hundred dollars a year.",
		"Rental properties, boats and young drivers in the household are rated separately and raise the umbrella premium.",
		"Legal defense costs are usually paid in addition to the limit rather than reducing it.",
	},
}}

// sampleInsurers name the policyholder guides the longest documents excerpt.
var sampleInsurers = []string{
	"Harborline Mutual", "Cedar Ridge Insurance", "Northgate Casualty",
	"Bluewater Life and General", "Summit Shield Insurance", "Pinecrest Assurance",
}
