# The two commands of the README. Everything they need is installed by scripts/bootstrap.sh.
.PHONY: run test

run:
	@scripts/run.sh $(ARGS)

test:
	@scripts/test.sh $(ARGS)
