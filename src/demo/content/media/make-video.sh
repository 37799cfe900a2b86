#!/usr/bin/env bash
# make-video.sh - regenerate the demo video "What is a clinical hazard?"
#
# Output (beside this script):
#   what-is-a-clinical-hazard.mp4  640x360, H.264 baseline, yuv420p, AAC mono, +faststart
#   what-is-a-clinical-hazard.vtt  WebVTT captions, one cue per narrated sentence
#
# Needs: bash, ffmpeg, ffprobe, espeak-ng, a DejaVu Sans font (fonts-dejavu-core).
#   On Debian/Ubuntu: apt-get update && apt-get install -y ffmpeg espeak-ng fonts-dejavu-core
#
# How it works:
#   1. Each narration sentence below is spoken by espeak-ng (British English voice)
#      into its own WAV file, and its length is measured with ffprobe.
#   2. The sentences are joined with a short pause between them; the running
#      times give the caption cues and the time each slide is on screen.
#   3. ffmpeg draws the slides (NHS blue #005eb8 background, white text) with
#      the drawtext filter, switching slide when its first sentence starts.
#
# The output is deterministic for a given espeak-ng/ffmpeg version. Run it from anywhere:
#   bash src/demo/content/media/make-video.sh
set -euo pipefail

OUT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NAME="what-is-a-clinical-hazard"
VOICE="en-gb"      # British English
SPEED=140          # words per minute (espeak-ng default is 175)
GAP=0.45           # seconds of silence after each sentence
RATE=22050         # espeak-ng's native sample rate

for tool in ffmpeg ffprobe espeak-ng; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

font_path() {  # $1 = fontconfig pattern, $2 = file name to prefer
  local f
  for f in "/usr/share/fonts/truetype/dejavu/$2" "/usr/share/fonts/dejavu/$2"; do
    [[ -f "$f" ]] && { echo "$f"; return; }
  done
  fc-match -f '%{file}' "$1" 2>/dev/null
}
FONT_BOLD="$(font_path 'DejaVu Sans:bold' DejaVuSans-Bold.ttf)"
FONT="$(font_path 'DejaVu Sans' DejaVuSans.ttf)"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------
# Slides: heading and body text (body lines separated by \n).
SLIDE_HEAD=(
  "What is a clinical hazard?"
  "Cause, hazard, harm"
  "Example: a missing allergy"
  "Controls reduce the risk"
  "Record it in the hazard log"
)
SLIDE_BODY=(
  "A potential source of harm\nto a patient"
  "A cause creates a hazard.\nIf nothing stops it,\nit can lead to harm."
  "Cause: allergy not shown on screen\nHazard: wrong drug prescribed\nHarm: allergic reaction"
  "Allergy banner and alert\nTesting and training\nPharmacist check"
  "Causes, controls, risk rating\nDCB0129 and DCB0160"
)

# Narration: "slide number|what espeak-ng says|caption text".
# Spoken text may differ from the caption to help pronunciation.
NARRATION=(
  "0|What is a clinical hazard?|What is a clinical hazard?"
  "0|In health I.T., a clinical hazard is a potential source of harm to a patient.|In health IT, a clinical hazard is a potential source of harm to a patient."
  "0|It is not the harm itself. It is a situation that could lead to harm if nothing stops it.|It is not the harm itself. It is a situation that could lead to harm if nothing stops it."
  "1|Think of it as a chain.|Think of it as a chain."
  "1|A cause, such as a software fault or a confusing screen, creates a hazard.|A cause, such as a software fault or a confusing screen, creates a hazard."
  "1|If the hazard is not caught, it can lead to harm.|If the hazard is not caught, it can lead to harm."
  "2|Here is an example. A new prescribing system does not show a patient's penicillin allergy.|Here is an example. A new prescribing system does not show a patient's penicillin allergy."
  "2|The hazard is that a clinician prescribes a medicine the patient is allergic to.|The hazard is that a clinician prescribes a medicine the patient is allergic to."
  "2|The possible harm is a serious allergic reaction.|The possible harm is a serious allergic reaction."
  "3|Controls reduce the risk.|Controls reduce the risk."
  "3|For example, a clear allergy banner, an alert when prescribing, testing, training, and a pharmacist check.|For example, a clear allergy banner, an alert when prescribing, testing, training, and a pharmacist check."
  "4|Your clinical safety officer records each hazard in the hazard log, with its causes, controls and risk rating.|Your clinical safety officer records each hazard in the hazard log, with its causes, controls and risk rating."
  "4|This is what the standards D C B zero one two nine, and D C B zero one six zero, ask you to do.|This is what the standards DCB0129 and DCB0160 ask you to do."
)

vtt_time() {  # seconds -> HH:MM:SS.mmm
  awk -v t="$1" 'BEGIN { ms = int(t * 1000 + 0.5); h = int(ms / 3600000); ms -= h * 3600000;
    m = int(ms / 60000); ms -= m * 60000; s = int(ms / 1000); ms -= s * 1000;
    printf "%02d:%02d:%02d.%03d", h, m, s, ms }'
}
duration() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"; }

ffmpeg -v error -y -f lavfi -i "anullsrc=r=${RATE}:cl=mono" -t "$GAP" -c:a pcm_s16le "$WORK/gap.wav"
GAP_DUR="$(duration "$WORK/gap.wav")"

: > "$WORK/list.txt"
VTT="$WORK/captions.vtt"
printf 'WEBVTT\n\n' > "$VTT"
declare -a SLIDE_START
t=0
i=0
for line in "${NARRATION[@]}"; do
  IFS='|' read -r slide spoken caption <<< "$line"
  wav="$WORK/s$(printf '%02d' "$i").wav"
  espeak-ng -v "$VOICE" -s "$SPEED" -w "$wav" "$spoken"
  d="$(duration "$wav")"
  [[ -z "${SLIDE_START[$slide]:-}" ]] && SLIDE_START[$slide]="$t"
  end="$(awk -v a="$t" -v b="$d" 'BEGIN { printf "%.3f", a + b }')"
  printf '%d\n%s --> %s\n%s\n\n' "$((i + 1))" "$(vtt_time "$t")" "$(vtt_time "$end")" "$caption" >> "$VTT"
  printf "file '%s'\nfile '%s'\n" "$wav" "$WORK/gap.wav" >> "$WORK/list.txt"
  t="$(awk -v a="$end" -v g="$GAP_DUR" 'BEGIN { printf "%.3f", a + g }')"
  i=$((i + 1))
done
TOTAL="$t"

ffmpeg -v error -y -f concat -safe 0 -i "$WORK/list.txt" -c:a pcm_s16le "$WORK/narration.wav"

# Build the drawtext chain: each slide is enabled from its first sentence to the next slide's start.
FILTER=""
n=${#SLIDE_HEAD[@]}
for ((s = 0; s < n; s++)); do
  start="${SLIDE_START[$s]}"
  if ((s + 1 < n)); then stop="${SLIDE_START[$((s + 1))]}"; else stop="$TOTAL"; fi
  printf '%s' "${SLIDE_HEAD[$s]}" > "$WORK/head$s.txt"
  printf '%b' "${SLIDE_BODY[$s]}" > "$WORK/body$s.txt"
  en="enable='between(t,${start},${stop})'"
  FILTER+="drawtext=fontfile=${FONT_BOLD}:textfile=$WORK/head$s.txt:fontcolor=white:fontsize=34:x=(w-text_w)/2:y=70:${en},"
  FILTER+="drawtext=fontfile=${FONT}:textfile=$WORK/body$s.txt:fontcolor=white:fontsize=26:line_spacing=14:x=(w-text_w)/2:y=(h-text_h)/2+30:${en},"
done
printf 'Peer Academy' > "$WORK/footer.txt"
FILTER+="drawbox=x=40:y=120:w=560:h=3:color=white@0.6:t=fill,"
FILTER+="drawtext=fontfile=${FONT}:textfile=$WORK/footer.txt:fontcolor=white@0.75:fontsize=16:x=w-text_w-20:y=h-text_h-16,"
FILTER+="format=yuv420p"

ffmpeg -v error -y \
  -f lavfi -i "color=c=0x005eb8:s=640x360:r=15:d=${TOTAL}" \
  -i "$WORK/narration.wav" \
  -vf "$FILTER" \
  -c:v libx264 -profile:v baseline -level 3.0 -pix_fmt yuv420p -preset veryslow -tune stillimage \
  -b:v 120k -maxrate 200k -bufsize 400k -g 150 \
  -c:a aac -ac 1 -ar 22050 -b:a 48k \
  -shortest -movflags +faststart \
  "$OUT_DIR/$NAME.mp4"

cp "$VTT" "$OUT_DIR/$NAME.vtt"

echo "wrote $OUT_DIR/$NAME.mp4 ($(stat -c %s "$OUT_DIR/$NAME.mp4") bytes, $(duration "$OUT_DIR/$NAME.mp4") s)"
echo "wrote $OUT_DIR/$NAME.vtt"
