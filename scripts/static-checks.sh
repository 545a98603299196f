#!/bin/sh
# The suite's static checks, side by side: the typecheck and the lint are each one thread for most
# of their run, and the machine has two cores. Fails when either fails; each prints only problems.
npm run --silent typecheck &
typecheck=$!
npm run --silent lint
lint=$?
wait "$typecheck"
typecheck=$?
[ "$typecheck" -eq 0 ] && [ "$lint" -eq 0 ]
