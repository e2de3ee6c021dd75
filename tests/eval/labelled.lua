-- Labelled evaluation texts for Candor's scorers.
-- Written by hand, independently of prompts/lexicons/ (see README.md).
-- Each entry: id, label, specific (bool), text.
-- Labels: vendor, slop, practitioner, vendor_numbers, tricky_practitioner.
return {

  ---------------------------------------------------------------------------
  -- vendor: B2B vendor marketing copy
  ---------------------------------------------------------------------------
  {id = "v01", label = "vendor", specific = false, text = [[
Unlock the full power of your telemetry with Lumenfold, the industry’s most
complete observability platform. Lumenfold brings your metrics, logs and traces
together in one unified experience, so your teams can move from reactive
firefighting to proactive excellence. Built for the modern enterprise and trusted
by world-class engineering organizations, Lumenfold delivers unparalleled
visibility across your entire stack — from the edge to the cloud and everything in
between. Stop guessing. Start knowing. Experience observability, reimagined.]]},

  {id = "v02", label = "vendor", specific = false, text = [[
Ship faster with confidence. Relaybuild is the intelligent CI/CD platform that
empowers developers to do their best work. Our cutting-edge pipeline engine
eliminates bottlenecks, accelerates delivery and gives leaders the insights they
need to drive business outcomes. With enterprise-grade security, seamless
integrations and a delightful developer experience, Relaybuild is the
last delivery platform you’ll ever need. Join the thousands of innovative teams
who have already transformed the way they build software.]]},

  {id = "v03", label = "vendor", specific = false, text = [[
Meet the next generation of cloud-native data infrastructure. KestrelDB combines
the reliability you demand with the limitless scale your business deserves. Our
revolutionary architecture frees your developers from operational burden so they
can focus on what truly matters: building amazing products. Whether you are a
fast-growing startup or a global enterprise, KestrelDB adapts to your needs and
grows with you. Future-proof your data strategy today with the database designed
for tomorrow.]]},

  {id = "v04", label = "vendor", specific = false, text = [[
In today’s rapidly evolving threat landscape, organizations can’t afford to leave
anything to chance. Sentrapoint delivers comprehensive, AI-driven protection that
stops sophisticated attacks before they start. Our holistic platform empowers
security teams with unmatched context and actionable intelligence, reducing risk
while accelerating the business. Best-in-class detection, effortless
deployment, and peace of mind — all in a single, powerful solution. Security that
works as hard as you do.]]},

  {id = "v05", label = "vendor", specific = false, text = [[
Release with confidence, every single time. Flagwise gives product and
engineering teams the power to control every feature, for every user, in real
time. Our robust experimentation engine turns every release into a learning
opportunity, unlocking data-driven decisions at scale. With best-of-breed
governance and a beautifully intuitive interface, Flagwise makes progressive
delivery simple, safe and delightful. Decouple deploy from release and unleash
your team’s true potential.]]},

  {id = "v06", label = "vendor", specific = false, text = [[
Your data is your most valuable asset. Streamforge helps you harness it. Our
fully managed, end-to-end data pipeline platform moves data from anywhere to
everywhere with zero hassle. Say goodbye to brittle scripts and hello to reliable,
scalable pipelines that just work. With a powerful no-code builder, robust
monitoring and world-class support, Streamforge accelerates time-to-insight and
empowers every team to become truly data-driven. Modern data movement starts here.]]},

  {id = "v07", label = "vendor", specific = false, text = [[
Portalis is the API gateway built for the way modern businesses operate. Securely
connect, manage and scale your APIs with a single, unified control plane.
Powerful policies, lightning-fast performance and rock-solid reliability come
standard, so your teams can innovate without compromise. Portalis seamlessly
integrates into your existing ecosystem and grows alongside your digital
transformation journey. Accelerate innovation, strengthen security and delight
your customers — all with Portalis.]]},

  {id = "v08", label = "vendor", specific = false, text = [[
When every second counts, trust Onwatch. Our intelligent incident management
platform brings your people, processes and tools together to resolve issues
faster than ever before. Automated workflows, smart escalations and AI-powered
insights help your responders stay calm, focused and in control. Minimize
downtime, protect revenue and build a culture of resilience with the platform
that leading enterprises rely on. Onwatch: because reliability is everyone’s
business.]]},

  {id = "v09", label = "vendor", specific = false, text = [[
Empower your developers with a world-class internal platform. Harborline is the
developer portal that unifies your services, documentation and golden paths in
one beautiful place. Reduce cognitive load, boost productivity and foster a
culture of engineering excellence across the entire organization. Harborline is
flexible enough for any team and powerful enough for the largest enterprises.
Give your engineers the experience they deserve, and watch innovation flourish.]]},

  {id = "v10", label = "vendor", specific = false, text = [[
Take control of your cloud spend with Centwise, the leading FinOps platform for
forward-thinking organizations. Our intelligent recommendations uncover hidden
savings across your entire cloud footprint, while real-time visibility keeps
finance and engineering perfectly aligned. Centwise turns cost management from a
painful chore into a strategic advantage. Optimize effortlessly, forecast
accurately and invest the savings in what matters most: growth.]]},

  {id = "v11", label = "vendor", specific = true, text = [[
Secrets sprawl is holding your business back. Vaultline is the modern secrets
platform that keeps credentials safe without slowing anyone down. It works out of
the box with GitHub Actions, GitLab CI, Jenkins and CircleCI, and ships native
integrations for AWS Secrets Manager, HashiCorp Vault and Kubernetes. Developers
love the frictionless CLI; security teams love the peace of mind. Vaultline is the
effortless, enterprise-ready way to eliminate leaked secrets for good.]]},

  {id = "v12", label = "vendor", specific = false, text = [[
Logs shouldn’t be a luxury. Timberstack reinvents log management for the cloud
era with a blazing-fast search experience and a pricing model that finally makes
sense. Ingest everything, keep everything and find anything in seconds. Our
powerful analytics turn noisy machine data into crystal-clear answers, so your
teams spend less time searching and more time building. Join the log management
revolution and discover what you’ve been missing.]]},

  {id = "v13", label = "vendor", specific = false, text = [[
Quality at the speed of innovation. Testmosaic is the AI-native testing platform
that helps leading teams deliver flawless software experiences. Our
self-healing automation adapts to change so your tests never hold you back, and
our actionable analytics give you complete confidence in every release. From
startup to enterprise, Testmosaic is the trusted partner for teams that refuse to
compromise on quality. Test smarter, not harder.]]},

  {id = "v14", label = "vendor", specific = false, text = [[
Deliver exceptional digital experiences to every user, everywhere. Northedge is
the intelligent edge platform that brings your applications closer to your
customers with unrivaled speed and ironclad security. Our globally distributed
network is engineered for performance and built for scale, giving you the
flexibility to innovate fearlessly. With Northedge, the edge isn’t a
destination — it’s a competitive advantage.]]},

  {id = "v15", label = "vendor", specific = false, text = [[
“We founded Graphmint with a simple mission: to make every developer a data
expert,” said the company’s co-founder and CEO. “Today’s announcement is a
major milestone on that journey. Our customers have told us again and again that
Graphmint has transformed how they work, and we are incredibly excited to bring
that same transformative power to even more organizations around the world. This
is just the beginning.”]]},

  {id = "v16", label = "vendor", specific = true, text = [[
We’re thrilled to announce that Ridgepipe is now available in AWS Marketplace and
as a Snowflake Native App! This exciting partnership makes it easier than ever
for joint customers to unlock the full value of their data investments.
Customers can now procure Ridgepipe through their existing AWS commitments and
deploy it directly inside their Snowflake account. Together, we are redefining
what’s possible in the modern data stack.]]},

  {id = "v17", label = "vendor", specific = false, text = [[
A leading global financial services company partnered with Ardentops to
modernize its operations. The results? Dramatically faster releases, significant
cost savings and happier, more productive engineers. “Ardentops has been a true
game-changer for our organization,” said their VP of Engineering. “We can’t
imagine going back.” Discover how industry leaders are accelerating their
transformation with Ardentops.]]},

  {id = "v18", label = "vendor", specific = false, text = [[
Join us for an exclusive live session with our industry-leading experts! In this
can’t-miss webinar, you’ll discover proven strategies to supercharge your
platform engineering initiatives, learn best practices from top-performing
organizations and see firsthand how Cloudmere empowers teams to achieve more.
Whether you’re just getting started or looking to take your practice to the next
level, this session is packed with actionable takeaways. Save your seat today!]]},

  {id = "v19", label = "vendor", specific = false, text = [[
Operationalize AI with confidence. Modelwharf is the end-to-end MLOps platform
that takes your models from experimentation to production at enterprise scale.
Streamlined workflows, robust governance and unmatched reliability help your
data science teams deliver real business value faster. Stop letting great models
sit on the shelf. With Modelwharf, you can turn innovation into impact — and
stay ahead of the competition.]]},

  {id = "v20", label = "vendor", specific = false, text = [[
Complexity is the enemy of reliability. Meshwell makes service-to-service
communication simple, secure and observable by default. Our zero-trust service
mesh delivers effortless traffic management and world-class resilience without
burdening your developers. Trusted by innovators across every industry, Meshwell
is the smartest way to modernize your microservices architecture and unlock
operational excellence.]]},

  {id = "v21", label = "vendor", specific = true, text = [[
Kubernetes made simple. Helmsway is the enterprise Kubernetes platform that
takes the pain out of cluster management. Fully certified for Kubernetes 1.29,
with first-class support for Helm charts, Argo CD and our official Terraform
provider, Helmsway fits seamlessly into the tools you already love. Enjoy
unmatched stability, best-in-class security and an intuitive console that your
whole team will adore. Spend less time wrangling YAML and more time delivering
value.]]},

  {id = "v22", label = "vendor", specific = false, text = [[
At Cobaltry, we believe developers deserve better. Better tools, better
workflows and better outcomes. That’s why we built the industry’s first truly
unified software supply chain platform — a single, intelligent solution that
secures every artifact, every dependency and every pipeline from code to cloud.

Traditional approaches force teams to choose between speed and security. With
Cobaltry, you no longer have to compromise. Our powerful policy engine works
silently in the background, catching risks early without ever getting in your
developers’ way, while executive dashboards give leadership the confidence and
clarity they need to make strategic decisions.

Cobaltry is trusted by the world’s most innovative companies to protect what
matters most. Whether you’re securing your first repository or your ten
thousandth, we’re with you every step of the journey. Build boldly. Ship
securely. Choose Cobaltry.]]},

  ---------------------------------------------------------------------------
  -- slop: generic AI-generated LinkedIn / blog prose
  ---------------------------------------------------------------------------
  {id = "s01", label = "slop", specific = false, text = [[
In today’s fast-paced world of software development, observability isn’t just a
nice-to-have — it’s a necessity. 🚀

But here’s the thing: it’s not about collecting more data. It’s about collecting
the *right* data.

The teams that thrive are the ones that embrace curiosity, foster collaboration
and prioritize clarity. Because at the end of the day, observability isn’t a
tool. It’s a mindset.

What does observability mean to you? Let me know in the comments! 👇]]},

  {id = "s02", label = "slop", specific = false, text = [[
Let’s talk about technical debt.

Technical debt is often seen as the enemy. But what if it’s actually a
reflection of growth?

Every shortcut tells a story. Every workaround represents a decision made under
pressure. And every refactor is an opportunity to learn, adapt and evolve.

The key isn’t to eliminate technical debt entirely — it’s to manage it
intentionally. Great teams don’t fear their debt. They understand it, they
prioritize it, and they pay it down strategically.

Remember: progress, not perfection. 💡]]},

  {id = "s03", label = "slop", specific = false, text = [[
Here’s what nobody tells you about incident response:

It’s not about the tools. It’s about the people.

When things go wrong — and they will — what truly matters is how your team
communicates, collaborates and learns. The best incident responders aren’t the
ones who know every command. They’re the ones who stay calm, ask the right
questions and create space for others.

Incidents aren’t failures. They’re invitations to grow stronger together. 🙌

#SRE #IncidentResponse #Leadership]]},

  {id = "s04", label = "slop", specific = false, text = [[
I’ve been reflecting a lot lately on what truly makes a great engineering team.

Is it technical skill? Absolutely. Is it the right tooling? Certainly. But I’ve
come to believe it’s something deeper.

It’s trust. It’s psychological safety. It’s the shared sense of ownership that
turns a group of individuals into a cohesive, high-performing unit.

Technology will continue to evolve. Frameworks will come and go. But the human
element? That remains timeless.

Grateful to work alongside people who embody this every single day. ✨]]},

  {id = "s05", label = "slop", specific = false, text = [[
Databases are more than just storage — they are the beating heart of every
modern application. In an era defined by data, choosing the right database is
no longer merely a technical decision; it is a strategic one.

Whether you are building a real-time analytics pipeline, a global e-commerce
platform or a cutting-edge AI application, your data layer shapes everything
that comes after. It influences performance, scalability and, ultimately, the
experience you deliver to your users.

In this article, we will explore the key considerations that every team should
keep in mind.]]},

  {id = "s06", label = "slop", specific = false, text = [[
The future of CI/CD is here. And it’s not what you think. 🤯

For years, we’ve treated pipelines as plumbing — something to set up once and
forget. But the landscape is shifting.

Today, the most forward-thinking teams see their pipelines as products. They
invest in them, iterate on them and measure their impact.

This isn’t just a technical shift. It’s a cultural one.

The question isn’t whether your pipeline works. It’s whether it empowers your
developers to do their best work.

Are you ready for what comes next?]]},

  {id = "s07", label = "slop", specific = false, text = [[
What if your deployment pipeline could think for itself?

What if every release was not a moment of anxiety, but a moment of confidence?

What if your engineers could spend less time firefighting and more time
innovating?

This is no longer a distant vision. With the rise of intelligent automation,
it’s becoming a reality for teams around the world. The organizations that
embrace this shift today will be the ones defining the industry tomorrow.

The only question left is: will you lead, or will you follow? 🔥]]},

  {id = "s08", label = "slop", specific = false, text = [[
In the ever-evolving landscape of cloud security, staying ahead of threats
requires more than just reactive measures. It demands a proactive, holistic
approach that integrates seamlessly into every stage of the software
development lifecycle.

As organizations increasingly adopt cloud-native architectures, the attack
surface continues to expand. This presents both challenges and opportunities.
By fostering a culture of security awareness, leveraging automation and
embracing continuous improvement, teams can build resilient systems that stand
the test of time.

In this post, we’ll delve into the essential strategies that can help you
navigate this complex terrain.]]},

  {id = "s09", label = "slop", specific = false, text = [[
5 lessons I learned from migrating to microservices 🧵

1️⃣ Start with the why. Technology should serve the business, not the other way
around.
2️⃣ Communication is everything. Your architecture mirrors your organization.
3️⃣ Observability is non-negotiable. You can’t fix what you can’t see.
4️⃣ Embrace failure. Resilience is built, not bought.
5️⃣ Never stop learning. The journey is the destination.

Microservices aren’t a silver bullet — but with the right mindset, they can be
transformative.

♻️ Repost if this resonated with you!]]},

  {id = "s10", label = "slop", specific = false, text = [[
Feature flags: a double-edged sword? ⚔️

On one hand, they offer incredible flexibility. Teams can experiment, iterate
and release with confidence.

On the other hand, without proper governance, they can quickly become a source
of complexity and confusion.

So what’s the answer? It’s not about avoiding feature flags. It’s about using
them thoughtfully, intentionally and strategically.

Like any powerful tool, their true value lies not in the tool itself, but in
how we choose to wield it.

How does your team manage feature flags? 🤔]]},

  {id = "s11", label = "slop", specific = true, text = [[
We reduced our deployment time from 45 minutes to 6 minutes. 🚀

Here’s what we learned along the way 👇

It wasn’t about one big change. It was about dozens of small, intentional
improvements. We parallelized our test suite. We embraced caching. We
challenged every assumption.

But the real breakthrough? It wasn’t technical at all. It was a mindset shift —
from “this is how we’ve always done it” to “what could be possible?”

Speed isn’t just a metric. It’s a culture.

And culture is something you build, one pipeline at a time. 💪]]},

  {id = "s12", label = "slop", specific = true, text = [[
Kubernetes 1.30 is here — and it’s a game-changer. 🎉

From native sidecar containers to improvements in pod scheduling readiness, this
release is packed with features that will fundamentally transform the way we
build and operate cloud-native applications.

But here’s the real story: Kubernetes isn’t just evolving. It’s maturing. And
with maturity comes a responsibility for all of us to rethink our practices,
our tooling and our assumptions.

The question is no longer “should we upgrade?” It’s “how quickly can we unlock
this value?”

Exciting times ahead! 🌟]]},

  {id = "s13", label = "slop", specific = false, text = [[
Platform engineering is not merely a trend; it represents a fundamental shift
in how organizations approach software delivery. At its core, it is about
creating an environment where developers can thrive — one that reduces
friction, promotes consistency and enables innovation at scale.

However, it is important to note that successful platform engineering requires
more than just tooling. It requires empathy for developers, a clear product
vision and a commitment to continuous improvement.

Ultimately, the most effective platforms are those that are built with
developers, not just for them.]]},

  {id = "s14", label = "slop", specific = false, text = [[
Data is the new oil — but only if you know how to refine it. 🛢️

Too many organizations are sitting on mountains of untapped data, unable to
turn it into meaningful insights. The problem isn’t the data. It’s the
pipelines.

Robust, reliable and scalable data pipelines are the unsung heroes of every
data-driven organization. They transform raw information into actionable
intelligence, empowering teams to make smarter decisions faster.

Invest in your pipelines, and you invest in your future.

Agree? 👇]]},

  {id = "s15", label = "slop", specific = false, text = [[
Let’s be honest: on-call can be exhausting. 😮‍💨

But it doesn’t have to be.

When done right, on-call can be a source of learning, ownership and even pride.
The secret lies in three things: clear runbooks, sustainable rotations and a
blameless culture.

Because here’s the truth — burnout isn’t a badge of honor. Healthy teams build
healthy systems. And healthy systems make for happy customers.

Take care of your people, and they will take care of your production. ❤️]]},

  {id = "s16", label = "slop", specific = false, text = [[
Code review is so much more than catching bugs.

It’s a conversation. It’s a teaching moment. It’s an act of collaboration that
strengthens not just the codebase, but the team itself.

The best code reviews are kind, constructive and curious. They ask “why?”
instead of dictating “what.” They celebrate good ideas and gently challenge
weaker ones.

In a world increasingly driven by speed, taking the time to review thoughtfully
is a superpower.

What’s the best piece of code review feedback you’ve ever received? 💬]]},

  {id = "s17", label = "slop", specific = false, text = [[
Great APIs are not built; they are crafted. 🎨

Behind every delightful developer experience lies a series of thoughtful
decisions — about naming, about consistency, about error handling and about
empathy for the people who will use your work.

An API is a promise. It’s a contract between you and every developer who trusts
you enough to build on top of it. Honour that promise, and you build more than
an interface. You build a community.

So the next time you design an endpoint, ask yourself: would I enjoy using
this?]]},

  {id = "s18", label = "slop", specific = true, text = [[
PostgreSQL 17 just dropped, and honestly? It’s a masterpiece. 🐘✨

Incremental backups with pg_basebackup. Improved vacuum memory management.
JSON_TABLE finally landing. Each of these features tells the same story: a
community that never stops pushing the boundaries of what’s possible.

Postgres isn’t just a database anymore. It’s an ecosystem. It’s a philosophy.
It’s a testament to the power of open source.

If you’re not paying attention to Postgres, now is the time to start.

Which feature are you most excited about? Drop it below! 👇]]},

  {id = "s19", label = "slop", specific = false, text = [[
AI won’t replace developers. But developers who use AI will replace those who
don’t.

That’s a bold statement, I know. But I truly believe we’re standing at the edge
of a profound transformation in how software is created.

AI pair programmers aren’t here to take our jobs — they’re here to amplify our
creativity, accelerate our learning and free us from the mundane.

The developers who thrive in this new era will be those who remain curious,
adaptable and open to change.

The future belongs to the bold. Are you ready? 🤖]]},

  {id = "s20", label = "slop", specific = false, text = [[
Zero trust is not a product. It’s a journey.

Too often, organizations approach zero trust as a checkbox — something to buy,
install and forget. But true zero trust is a holistic philosophy that touches
every layer of your architecture, every process and every person.

It’s about verifying explicitly. It’s about assuming breach. It’s about
continuously adapting to an ever-changing threat landscape.

The path may be complex, but the destination is worth it: a more secure, more
resilient and more trustworthy organization. 🔐]]},

  {id = "s21", label = "slop", specific = false, text = [[
In conclusion, adopting a robust monitoring strategy is essential for any
organization seeking to thrive in today’s digital landscape. By embracing best
practices, investing in the right tools and fostering a culture of continuous
improvement, teams can unlock new levels of reliability and performance.

It is worth noting that there is no one-size-fits-all approach. Each
organization must carefully evaluate its unique needs and challenges. That
said, the principles outlined in this article provide a solid foundation upon
which to build.

Ultimately, the journey toward operational excellence is ongoing — and every
step forward counts.]]},

  {id = "s22", label = "slop", specific = false, text = [[
Why do so many data teams struggle to deliver value? 🤔

It’s a question I’ve been thinking about a lot lately. And I think the answer
is simpler — and harder — than we’d like to admit.

It’s not the tools. The modern data stack has given us more power than ever
before. It’s not the talent, either. Today’s data engineers are some of the
most skilled professionals in the industry.

The real challenge is alignment. Too often, data teams operate in isolation,
disconnected from the business outcomes they’re meant to serve. They build
pipelines that are technically impressive but strategically irrelevant.

The fix? Start with the question, not the data. Partner closely with
stakeholders. Measure success by decisions enabled, not dashboards shipped.

Because at the end of the day, data isn’t about data. It’s about people.

What’s been your experience? I’d love to hear your thoughts. 💬]]},

  ---------------------------------------------------------------------------
  -- practitioner: engineers writing for engineers
  ---------------------------------------------------------------------------
  {id = "p01", label = "practitioner", specific = true, text = [[
We run a single Prometheus (2.51) with about 2.1M active series on a 16 vCPU /
64 GB box and it is fine until someone adds a label with user IDs in it. That
happened twice last quarter and both times the head block ate all the memory
within an hour. We now have a recording rule that alerts when
prometheus_tsdb_head_series grows more than 20% in 30 minutes. Not elegant, but
it has caught three bad deploys since.]]},

  {id = "p02", label = "practitioner", specific = true, text = [[
After upgrading pgbouncer from 1.19 to 1.21 we started seeing
`server conn crashed?` in the logs roughly every 10–15 minutes under load, and
clients get `connection reset by peer`. Transaction pooling mode,
max_client_conn = 2000, default_pool_size = 40, Postgres 15.4 on RDS.

Rolling back to 1.19 makes it go away. I haven’t found anything obvious in the
changelog. Has anyone else hit this, or is there a setting I’m missing? Happy
to attach a debug log.]]},

  {id = "p03", label = "practitioner", specific = true, text = [[
Summary: at 14:07 UTC on 3 March a config push changed the upstream timeout on
the payments gateway from 30s to 3s. Requests to the card processor that took
longer than 3s (about 4% at that hour) failed and were retried by clients,
which roughly doubled traffic to the processor. We rolled back at 14:31. Total
impact: 24 minutes, ~1,900 failed checkouts. The change passed review because
the diff showed “3000” and the reviewer read it as milliseconds — it was
seconds in one file and milliseconds in the other.]]},

  {id = "p04", label = "practitioner", specific = true, text = [[
We have around 600 flags in our LaunchDarkly project and maybe 80 of them are
still doing anything. The rest are permanently on and nobody wants to be the
one to delete them because the code paths behind them aren’t tested anymore.

What finally worked for us was boring: every flag gets an owner and an expiry
date in the PR template, and a weekly Slack bot lists expired ones by owner.
Took us from 600 to 210 in two months.]]},

  {id = "p05", label = "practitioner", specific = true, text = [[
Note for the team: I turned on the Gradle build cache for the Android jobs on
Tuesday. Median CI time went from 18m40s to 11m05s over the 300 or so builds
since. Cache hit rate is about 70% on PRs and near zero on main because main
builds run with --rerun-tasks (intentional, we want clean release builds).

Downside: the cache bucket is already 90 GB. I set a 14-day lifecycle rule, we
will see if that holds.]]},

  {id = "p06", label = "practitioner", specific = true, text = [[
fwiw we dropped Kafka last year and replaced it with an outbox table in Postgres
plus a small worker polling every 500ms. We were doing maybe 300 messages/sec
at peak. Nobody misses running ZooKeeper. If we ever get to 10x that we’ll
probably regret it, but that’s a problem for future us.]]},

  {id = "p07", label = "practitioner", specific = true, text = [[
Has anyone got tail sampling in the OpenTelemetry Collector (contrib 0.98)
working behind a load balancer? As I understand it every span of a trace has to
land on the same collector instance, so we put the loadbalancing exporter in
front with routing_key: traceID. It works, but when a collector pod restarts we
lose about 30 seconds of traces and the decision_wait of 10s makes it worse.
Is a shorter decision_wait the answer, or are people running this differently?]]},

  {id = "p08", label = "practitioner", specific = true, text = [[
We enabled Dependabot across 140 repos in January. First week: 1,100 PRs.
People started ignoring them within days. What helped:

- grouped updates per ecosystem, weekly instead of daily
- auto-merge for patch versions when CI passes
- security updates only for the 30 repos nobody actively works on

Now it’s about 60 PRs a week and most merge themselves. We still have a handful
of repos pinned to old major versions because upgrading means real work.]]},

  {id = "p09", label = "practitioner", specific = true, text = [[
We evaluated Kong and plain Envoy for our gateway. Kong won on the plugin
ecosystem — rate limiting and JWT validation worked in an afternoon. Envoy won
on latency: in our test (wrk, 200 connections, 1 KB payloads) Kong added about
2.5 ms at p99 and Envoy about 0.8 ms. We went with Envoy because we already run
it as a sidecar and the team knows the config, but writing our own auth filter
in Lua took two weeks we hadn’t planned for.]]},

  {id = "p10", label = "practitioner", specific = true, text = [[
Our on-call rotation is 6 people, one week each, with a secondary. Last quarter
the primary got paged 140 times, 90 of them outside working hours. When we went
through them, 55 were the same disk-usage alert on the log shippers that never
needed action. We deleted it and raised the threshold on two others. This
quarter so far: 38 pages. The remaining noisy one is the queue-depth alert and
I don’t yet know what the right threshold is.]]},

  {id = "p11", label = "practitioner", specific = false, text = [[
Honestly the hardest part of our migration wasn’t technical. It was getting two
teams to agree on who owns the shared schema. We spent more time in meetings
about that than writing the migration itself. If I did it again I’d settle
ownership first, in writing, before anyone touches code. The tech was the easy
bit.]]},

  {id = "p12", label = "practitioner", specific = true, text = [[
Don’t run `airflow dags backfill` for 2 years of daily partitions with
max_active_runs unset. I did that on Monday, it scheduled 730 runs, all of them
hit the warehouse at once, and our Snowflake credits for the day were about 6x
normal. Set max_active_runs=4 and use --reset-dagruns only if you mean it. I’ve
added a note to the runbook and a check in the CLI wrapper that refuses more
than 60 runs without --force.]]},

  {id = "p13", label = "practitioner", specific = true, text = [[
We added dbt tests (not_null, unique, accepted_values) to the 40 most-used
models. On the first run, 11 failed. Three were real bugs upstream: duplicate
order IDs from a retried webhook. The rest were tests that were wrong about the
data. The duplicate-order one alone had been inflating revenue in the finance
dashboard by about 0.3% for months. Tests run in CI now and block merges; they
add around 4 minutes.]]},

  {id = "p14", label = "practitioner", specific = false, text = [[
I’d push back a bit on this. In my experience the monitoring tool matters much
less than whether anyone actually reads the alerts and acts on them. We’ve
switched tools twice and the same problems came with us each time. Fix the
habits first, then decide if the tool is the bottleneck.]]},

  {id = "p15", label = "practitioner", specific = true, text = [[
If your Terraform apply dies halfway and leaves the DynamoDB lock behind, don’t
delete the item in the console. Use `terraform force-unlock <LOCK_ID>` with the
ID from the error message. We had someone delete the lock table item by hand
while another apply was actually still running in CI; two applies against the
same state, and we spent the afternoon reconciling three security groups that
existed in AWS but not in state.]]},

  {id = "p16", label = "practitioner", specific = true, text = [[
I pulled 90 days of CI history for our monorepo: 41,000 test runs. 212 tests
failed at least once and then passed on retry with no code change. 15 of them
account for about 60% of those retries. Most of the top 15 share one thing: they
start a local Redis on a fixed port, so two jobs on the same runner collide. I’m
going to switch them to random ports first and see how much that removes before
we talk about quarantining anything.]]},

  {id = "p17", label = "practitioner", specific = true, text = [[
SQLite in WAL mode has worked well for our internal tool (~50 users, a few
writes per second). Two things bit us: we forgot `PRAGMA busy_timeout`, so
concurrent writers got SQLITE_BUSY immediately instead of waiting; and the WAL
file grew to 3 GB because a long-running read transaction in a reporting job
stopped checkpoints from completing. Setting busy_timeout=5000 and splitting the
report into smaller reads fixed both.]]},

  {id = "p18", label = "practitioner", specific = true, text = [[
Our Redis was set to maxmemory-policy noeviction (the default on that managed
plan) and we used it for both sessions and a cache. When the cache filled
memory, writes to sessions started failing with OOM errors and people got
logged out. We split it into two instances: sessions with noeviction and
4 GB, cache with allkeys-lru and 8 GB. Should have done that from the start.]]},

  {id = "p19", label = "practitioner", specific = false, text = [[
We tried it for a quarter and went back. Not because it was bad. It did what it
said. But the team didn’t trust it, so every time it made a call someone
double-checked by hand, and at that point we were paying for a tool and doing
the work anyway. I think it would work for a team that starts with it. Moving an
existing team onto it was harder than I expected.]]},

  {id = "p20", label = "practitioner", specific = true, text = [[
Looked at our GitHub Actions bill: $4,300 last month, and 70% of the minutes
were macOS runners for the iOS build, which bill at 10x the Linux rate. We moved
the unit tests that don’t need a simulator to Linux and only run the full iOS
build on PRs that touch ios/ or shared/. Bill for the first two weeks of this
month is on track for about $1,600. The iOS folks are slightly unhappy that some
breakage now shows up later.]]},

  {id = "p21", label = "practitioner", specific = true, text = [[
Our Zürich team runs the batch cluster and they noticed the HPA flapping between
4 and 20 replicas every few minutes. Cause: the CPU target was 50% and the pods
spend their first 40 seconds warming a cache at 100% CPU, so every scale-up
triggered another scale-up. Adding a scale-up stabilization window of 120s and
a readiness probe that waits for the cache fixed it. Node count dropped from
about 30 to 18 on a normal day.]]},

  {id = "p22", label = "practitioner", specific = true, text = [[
Small gotcha with Vault: our CI jobs got tokens with a 1h TTL, and the
integration suite started taking longer than that after we added the e2e tests.
Jobs failed at ~62 minutes with permission denied, which looked like a policy
problem and cost me half a day. Fix was renewing the token in a background loop
(vault token renew -increment=30m), though honestly the real fix is making the
suite faster.]]},

  {id = "p23", label = "practitioner", specific = false, text = [[
I don’t think we have a monitoring problem. I think we have an ownership
problem. Every alert goes to a shared channel, everyone sees it, and everyone
assumes someone else is looking. Buying a better tool won’t change that. What
might: every alert has exactly one team that gets paged for it, and if no team
will take it, we delete it.]]},

  {id = "p24", label = "practitioner", specific = true, text = [[
Moved our event analytics from Postgres to ClickHouse last month. Main table is
about 3.2 billion rows. The dashboard query that took 40–90s on Postgres (with
every index we could think of) now runs in 300–700 ms. Costs we didn’t expect:
no real UPDATEs, so GDPR deletes go through ALTER TABLE … DELETE mutations which
are slow and need babysitting, and the team had to learn MergeTree ordering keys
properly. Worth it for us, but it’s not a drop-in.]]},

  {id = "p25", label = "practitioner", specific = true, text = [[
We rewrote the log shipper from Python to Go. CPU per node went from ~1.2 cores
to ~0.3 at the same 15k lines/sec, and memory stopped creeping up. But it took
one engineer about 10 weeks, not the 3 we estimated, mostly because of edge
cases in the multiline parsing that the Python version handled by accident.
I’d do it again for the CPU savings across 400 nodes. I would not do it for a
service running on five.]]},

  {id = "p26", label = "practitioner", specific = true, text = [[
We trialled two hosted log vendors in March with the same 2-week sample, roughly
800 GB/day. One was faster to search but priced per GB ingested, which would
have been about $38k/month for us. The other had cheaper ingest but rehydrating
archived logs took 20+ minutes, which is useless mid-incident. We ended up
keeping Loki and adding more retention instead. Slower queries, but we know its
failure modes.]]},

  {id = "p27", label = "practitioner", specific = true, text = [[
Writing this up because we got it wrong for a long time. Our nightly Postgres
backups (pg_dump, custom format, ~180 GB) “succeeded” every night for eleven
months. In September we needed one for real after a bad migration and the
restore failed: the dump had been taken with a client two major versions older
than the server, and pg_restore choked on a generated column.

What we changed: the backup job now uses the client binary from the same image
as the server; a weekly job restores the latest dump into a scratch instance and
runs a row-count check on the 20 biggest tables; and the on-call runbook has the
actual restore command, timed (it takes 2h10m, which people did not know).

What we didn’t change, yet: we still don’t have point-in-time recovery. WAL
archiving is on the list for Q1. Until then, our real RPO is 24 hours, and I’d
rather say that out loud than pretend otherwise.]]},
  {id = "p28", label = "practitioner", specific = true, text = [[
+1 to this. We hit the same thing on Node 20: the test runner’s default
worker count is cores minus one, and on the 2-core CI runners that meant one
worker. Setting --maxWorkers=4 cut the suite from 9 to 4 minutes. Memory went
up a bit, still fine.]]},

  ---------------------------------------------------------------------------
  -- vendor_numbers: vendor register with lots of real-looking numbers
  ---------------------------------------------------------------------------
  {id = "n01", label = "vendor_numbers", specific = true, text = [[
Introducing Quillstream 4.0, the fastest streaming engine on the planet. In
independent benchmarks on 12-node clusters, Quillstream cut p99 latency by 43%
and boosted throughput by 2.8x compared to Apache Kafka 3.6 — with 60% less
infrastructure. That’s not an incremental improvement. It’s a revolution. Our
groundbreaking zero-copy architecture delivers unmatched performance at any
scale, so you can build real-time experiences your customers will love. Upgrade
today and see why the world’s most demanding teams choose Quillstream.]]},

  {id = "n02", label = "vendor_numbers", specific = true, text = [[
KestrelDB delivers up to 7.4x higher throughput than PostgreSQL 16 on TPC-C,
and 11x faster analytical queries on TPC-H at scale factor 100. Fully
wire-compatible with Postgres, KestrelDB is the only database that gives you
the familiarity you love with the performance your business demands. Migrate in
minutes, not months, and join over 2,500 companies that have already made the
switch to the world’s most advanced distributed SQL platform.]]},

  {id = "n03", label = "vendor_numbers", specific = true, text = [[
Security you can trust, at any scale. Sentrapoint is SOC 2 Type II, ISO 27001,
ISO 27701 and HIPAA compliant, FedRAMP Moderate authorized, and backed by an
industry-leading 99.99% uptime SLA. Our platform analyzes more than 4 trillion
security events every week across 190 countries, giving you unparalleled
protection powered by the world’s largest threat graph. With deployment in under
15 minutes, Sentrapoint is the fastest path to enterprise-grade security.]]},

  {id = "n04", label = "vendor_numbers", specific = true, text = [[
Relaybuild runners are 3.2x faster than GitHub Actions hosted runners and cost
up to 58% less. Powered by AMD EPYC 9004 processors with NVMe caching and
10 Gbps networking, they supercharge every build — from Rust monorepos to
Next.js apps. Switching takes a single line of YAML: change runs-on and
you’re done. Over 11,000 engineering teams already trust Relaybuild to deliver
blazing-fast CI. Why settle for anything less?]]},

  {id = "n05", label = "vendor_numbers", specific = true, text = [[
Lumenfold ingests more than 5 petabytes of telemetry every single day for
customers like global banks, leading retailers and top-10 streaming services.
With 800+ out-of-the-box integrations, native OpenTelemetry support and query
times under 200 ms across 30 days of data, Lumenfold is the undisputed leader in
full-stack observability. Customers report a 67% reduction in MTTR and a 312%
ROI in the first year. Experience the difference for yourself.]]},

  {id = "n06", label = "vendor_numbers", specific = true, text = [[
Flagwise evaluates more than 40 billion feature flags every day with a median
latency of 0.3 ms, served from 120 edge locations worldwide. SDKs for 25
languages — including Go, Rust, Swift and Kotlin — make Flagwise the most
developer-loved experimentation platform on the market. Rated #1 on G2 for
ease of use four quarters in a row, Flagwise empowers 4,000+ teams to release
fearlessly and learn faster than the competition.]]},

  {id = "n07", label = "vendor_numbers", specific = true, text = [[
With 350+ pre-built connectors, Streamforge syncs data from Salesforce,
Stripe, HubSpot and Postgres to Snowflake, BigQuery or Databricks in as little
as 5 minutes. Our patented change-data-capture engine replicates up to 1 million
rows per second with 99.999% accuracy, and customers save an average of 1,200
engineering hours per year. Streamforge is the smartest, fastest, most reliable
way to build a modern data stack.]]},

  {id = "n08", label = "vendor_numbers", specific = true, text = [[
Onwatch customers cut mean time to resolution by 62% and reduced alert noise by
91% within 90 days. Trusted by more than 1,200 organizations, including 40% of
the Fortune 100, Onwatch integrates with PagerDuty, Datadog, Slack, Jira and
ServiceNow to orchestrate world-class incident response. Our AI-powered
triage automatically correlates signals from 700+ sources, so your responders
always know exactly what to do next. Resilience has never been this effortless.]]},

  {id = "n09", label = "vendor_numbers", specific = true, text = [[
Portalis handles 1.2 million requests per second on a single c7g.4xlarge
instance with sub-millisecond p99 latency — 5x the throughput of the leading
open-source gateway. Built in Rust on top of a revolutionary async core,
Portalis supports gRPC, GraphQL, WebSockets and HTTP/3 out of the box. It is the
most performant, most secure and most cost-efficient API gateway ever built.
Benchmark it against your current stack and prepare to be amazed.]]},

  {id = "n10", label = "vendor_numbers", specific = false, text = [[
10x faster. 100% visibility. Zero downtime. One platform.

Nimbusgrid redefines what’s possible for modern infrastructure teams. Get 360°
insight into every workload, 24/7 protection for every asset and 2x the
productivity from every engineer. Whatever your goals, Nimbusgrid delivers
results from day one. It’s time to expect more from your platform — and get it.]]},

  {id = "n11", label = "vendor_numbers", specific = true, text = [[
See how Acme Retail cut its Snowflake bill by $1.3M a year with Centwise. By
right-sizing 240 warehouses, enforcing auto-suspend after 60 seconds and
eliminating 3,800 orphaned tables, Acme achieved a stunning 41% reduction in
data-platform spend in just 8 weeks. “Centwise paid for itself in the first
month,” said Acme’s Director of Data Engineering. Centwise: the world’s most
powerful cost-intelligence platform for the AI data cloud.]]},

  {id = "n12", label = "vendor_numbers", specific = true, text = [[
Testmosaic has been named a Leader in the 2024 Gartner Magic Quadrant for
Software Test Automation for the third consecutive year, and holds a 4.8/5
rating from over 1,900 reviews on G2. Our AI engine runs 2 million tests a day
across 3,000 real devices and browsers, reducing test maintenance by up to 85%.
Leading brands rely on Testmosaic to deliver flawless digital experiences at
unprecedented speed. Discover why analysts and customers agree.]]},

  ---------------------------------------------------------------------------
  -- tricky_practitioner: vague/emotional, ironic, or concretely enthusiastic
  ---------------------------------------------------------------------------
  {id = "t01", label = "tricky_practitioner", specific = false, text = [[
I am so tired. Third night this week getting paged for the same thing and every
time it resolves itself before I can even figure out what’s going on. I’ve
raised it in retro, twice. Everyone agrees it’s bad. Nothing changes. I don’t
even know who to ask anymore. Is this just what the job is?]]},

  {id = "t02", label = "tricky_practitioner", specific = true, text = [[
Our vendor rep promised a “single pane of glass” with “actionable insights.”
What we actually got was a seventh dashboard, a Slack integration that posts
the same alert three times, and an “AI root cause” panel that has blamed DNS
for every incident since February, including the one where someone dropped a
table. Contract renews in October. I’ve started writing the comparison doc.]]},

  {id = "t03", label = "tricky_practitioner", specific = true, text = [[
I don’t usually gush about tools but uv is absurd. Our CI install step for the
Django monolith went from 94 seconds with pip to 11 seconds cold and under 2
with the cache warm. The lockfile is reproducible across macOS and Linux, which
pip-tools never quite managed for us. Swapped it in on a Friday afternoon,
nothing broke, nobody noticed except the CI graph. Genuinely the best upgrade
we’ve made this year.]]},

  {id = "t04", label = "tricky_practitioner", specific = false, text = [[
Every “AI-powered” observability tool I’ve demoed this year has been the same
product: a chat box on top of the dashboards we already had, which confidently
summarizes the graph I’m already looking at. I’m not against the idea. I’d love
something that actually saves time during an incident. I just haven’t seen it
yet, and I’m getting cynical about the demos.]]},

  {id = "t05", label = "tricky_practitioner", specific = false, text = [[
I broke production today. Nothing dramatic, it was back quickly, but I keep
replaying it. I was sure the change was safe, I’d done the same thing a dozen
times. My lead was kind about it, and the review was blameless in the way it’s
supposed to be. Still feels awful. Writing it down here because I know I’ll
forget how this feels, and I want to remember to be kind to the next person.]]},

  {id = "t06", label = "tricky_practitioner", specific = true, text = [[
Ah yes, the “seamless, zero-downtime migration.” Ours had 47 minutes of
downtime because the tool’s CDC mode silently skipped tables without a primary
key — there were nine of them, including audit_log. The docs mention this in a
footnote on page 3 of the limitations section. To be fair, support was
responsive and the second attempt went fine once we added surrogate keys. But
“seamless” it was not.]]},

  {id = "t07", label = "tricky_practitioner", specific = true, text = [[
Honestly Tailscale changed how our 8-person team works. We got rid of the
OpenVPN box that only one person knew how to maintain, and now SSH to the staging
hosts and the Grafana instance just works from anyone’s laptop. ACLs are a
single JSON file in the repo, reviewed like any other PR. Setup took an
afternoon. I keep waiting for the catch. The only real one so far is that our
auditor needed a long explanation of how it works.]]},

  {id = "t08", label = "tricky_practitioner", specific = false, text = [[
Not sure how to say this without sounding bitter, but I think our platform team
has lost sight of who they’re building for. Every quarter there’s a new
abstraction and a new migration, and every quarter the things we actually asked
for slip again. I know they’re working hard. I just wish someone would sit with
us for a week and watch how we actually ship.]]},

  {id = "t09", label = "tricky_practitioner", specific = false, text = [[
“Enterprise-grade,” in my experience, means three things: SSO costs extra, the
audit log exists but can’t be exported, and there is a customer success manager
whose job is to schedule calls. Meanwhile the actual engineering — the part
you’d hope the enterprise pays for — is the same as the free tier. I’ve stopped
reading that phrase as a feature and started reading it as a pricing page.]]},

  {id = "t10", label = "tricky_practitioner", specific = true, text = [[
DuckDB is the best thing that has happened to my laptop. I had a 14 GB pile of
Parquet files from the data lake and a question from finance. Used to mean
spinning up a Spark cluster or waiting for someone with warehouse access. Instead:
`SELECT region, sum(amount) FROM 'exports/*.parquet' GROUP BY 1;` — 6
seconds on an M2 MacBook Air. I have now answered four “quick questions” this
week without opening a ticket. Love it.]]},

  {id = "t11", label = "tricky_practitioner", specific = false, text = [[
Does anyone else feel like the dashboards got worse as they got prettier? We
used to have a few ugly graphs everyone understood. Now there are polished
boards for everything and I couldn’t tell you which one to open when something
breaks. Maybe it’s just me getting older. But I miss knowing where to look.]]},

  {id = "t12", label = "tricky_practitioner", specific = true, text = [[
Seriously, if you debug C or C++ on Linux and haven’t tried rr, stop what you’re
doing. Record the failing run once, then `reverse-continue` back to where the
pointer got clobbered. It took me 20 minutes to find a use-after-free that two
of us had chased for three days with printf and ASan. It does need perf counters,
so it won’t run on most cloud VMs — we keep one bare-metal box around just for it.
Absolutely worth it.]]},
}
