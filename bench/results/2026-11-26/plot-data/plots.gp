set terminal pngcairo noenhanced size 900,560 font "sans,11"
set grid
set key top left
set logscale y
set xlabel "folio order (0 = 4 KiB, 9 = 2 MiB)"
set xrange [-0.5:9.5]
set xtics 1
set output "/work/main/bench/results/2026-11-26/free-ns-per-folio.png"
set title "vramsim free path per folio (deterministic guest: instructions)"
set ylabel "guest instructions per folio"
plot "/work/main/bench/results/2026-11-26/plot-data/micro-scrub.dat" u 1:2 w lp lw 2 t "full path, prepare=scrub", \
     "/work/main/bench/results/2026-11-26/plot-data/micro-none.dat" u 1:2 w lp lw 2 t "full path, prepare=none", \
     "/work/main/bench/results/2026-11-26/plot-data/micro-bare_prepare.dat" u 1:2 w lp lw 2 t "bare prepare", \
     "/work/main/bench/results/2026-11-26/plot-data/micro-raw_buddy.dat" u 1:2 w lp lw 2 t "raw buddy free"
set output "/work/main/bench/results/2026-11-26/free-throughput.png"
set title "vramsim free throughput per order (deterministic guest)"
set ylabel "GiB per 10^9 guest instructions"
plot "/work/main/bench/results/2026-11-26/plot-data/micro-scrub.dat" u 1:3 w lp lw 2 t "full path, prepare=scrub", \
     "/work/main/bench/results/2026-11-26/plot-data/micro-none.dat" u 1:3 w lp lw 2 t "full path, prepare=none", \
     "/work/main/bench/results/2026-11-26/plot-data/micro-bare_prepare.dat" u 1:3 w lp lw 2 t "bare prepare", \
     "/work/main/bench/results/2026-11-26/plot-data/micro-raw_buddy.dat" u 1:3 w lp lw 2 t "raw buddy free"
set xlabel "buffer size (MiB)"
unset xrange
set xtics auto
set logscale x 2
set output "/work/main/bench/results/2026-11-26/e2e-free.png"
set title "munmap of a migrated buffer: vramsim vs test_hmm (deterministic guest)"
set ylabel "GiB per 10^9 guest instructions"
plot "/work/main/bench/results/2026-11-26/plot-data/e2e-vramsim-1.dat" u 1:2 w lp lw 2 t "vramsim, THP on", \
     "/work/main/bench/results/2026-11-26/plot-data/e2e-vramsim-0.dat" u 1:2 w lp lw 2 t "vramsim, THP off", \
     "/work/main/bench/results/2026-11-26/plot-data/e2e-test_hmm-1.dat" u 1:2 w lp lw 2 t "test_hmm, THP on", \
     "/work/main/bench/results/2026-11-26/plot-data/e2e-test_hmm-0.dat" u 1:2 w lp lw 2 t "test_hmm, THP off"
set output "/work/main/bench/results/2026-11-26/e2e-to-device.png"
set title "migrate to device: vramsim vs test_hmm (deterministic guest)"
set ylabel "GiB per 10^9 guest instructions"
plot "/work/main/bench/results/2026-11-26/plot-data/e2e-vramsim-1.dat" u 1:3 w lp lw 2 t "vramsim, THP on", \
     "/work/main/bench/results/2026-11-26/plot-data/e2e-vramsim-0.dat" u 1:3 w lp lw 2 t "vramsim, THP off", \
     "/work/main/bench/results/2026-11-26/plot-data/e2e-test_hmm-1.dat" u 1:3 w lp lw 2 t "test_hmm, THP on", \
     "/work/main/bench/results/2026-11-26/plot-data/e2e-test_hmm-0.dat" u 1:3 w lp lw 2 t "test_hmm, THP off"
